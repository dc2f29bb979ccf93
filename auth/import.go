package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// importHashWorkers is how many temporary passwords an import hashes at once: enough to import
// thousands of users in reasonable time, few enough to leave the hashing pool to sign-ins.
const importHashWorkers = 4

// ImportPlan is the preview of a bulk import: every row of the file with the username it
// would get and what is wrong with it. Nothing is written until Import.
type ImportPlan struct {
	Site string
	Rows []ImportRow
	// Errors are problems of the file as a whole, such as an agency without enough free seats
	// for all the file's users.
	Errors []string
	// users are the validated accounts, in Rows' order; Import writes these, not the Rows.
	users []*hmisauth.User
	// trainings are each row's completed trainings (training_<kind> columns), in Rows' order.
	trainings [][]importTraining
}

// importTraining is one completed training from an import row.
type importTraining struct {
	kind      string
	completed hmisauth.Date
}

// ImportRow is one person from the import file, as they would be created.
type ImportRow struct {
	Line      int // line of the file (the spreadsheet's row number)
	Username  string
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Agency    string
	Role      string
	// Trainings are the completed trainings the row records, as "kind on YYYY-MM-DD".
	Trainings []string
	// Errors say, in words a helpdesk agent understands, why the row cannot be imported.
	Errors []string
}

// Problems lists every row's errors, then the file's.
func (p *ImportPlan) Problems() []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.Errors...)
	}
	return append(out, p.Errors...)
}

// OK reports whether the plan can be imported as it is.
func (p *ImportPlan) OK() bool { return len(p.Problems()) == 0 }

// ParseImport reads a CSV file of new users and plans their import without writing anything.
// The first row names the columns (any order; see importColumns). Each row is checked with
// the same rules as CreateUser and gets a username: the one given, or first initial + last
// name, numbered past the site's existing usernames and those planned earlier in the file.
// Problems with single rows or seats are in the plan; an error means the file as a whole
// cannot be read (no header, too large, not CSV).
func (s *Service) ParseImport(ctx context.Context, siteKey string, r io.Reader) (*ImportPlan, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	return s.parseImport(ctx, site, r, nil)
}

// parseImport is ParseImport with scope, when not nil, checking each row first: it may rewrite
// the row's request and answers the row's error ("" for none).
func (s *Service) parseImport(ctx context.Context, site *hmisauth.Site, r io.Reader, scope func(line int, req *NewUser) string) (*ImportPlan, error) {
	records, err := readImportFile(r)
	if err != nil {
		return nil, err
	}
	plan := &ImportPlan{Site: site.Key}
	reqs := make([]NewUser, len(records))
	for i, rec := range records {
		req, errs := rec.newUser(site.Key)
		outOfScope := ""
		if scope != nil {
			outOfScope = scope(rec.line, &req)
		}
		reqs[i] = req
		row := ImportRow{Line: rec.line, FirstName: strings.TrimSpace(req.FirstName), LastName: strings.TrimSpace(req.LastName),
			Email: strings.TrimSpace(req.Email), Phone: strings.TrimSpace(req.Phone), Agency: strings.TrimSpace(req.Agency),
			Role: strings.TrimSpace(req.Role), Errors: errs}
		u := &hmisauth.User{Site: site.Key}
		if outOfScope != "" {
			row.Errors = append(row.Errors, outOfScope)
			u = nil
		} else if _, err := s.fillProfile(ctx, site, u, req); err != nil {
			msg, err := importRowMessage(rec.line, req, err)
			if err != nil {
				return nil, err
			}
			row.Errors = append(row.Errors, msg)
			u = nil
		} else {
			row.Role = string(u.Role)
		}
		trainings, errs := importTrainings(site, rec, s.clock.Now())
		for _, t := range trainings {
			row.Trainings = append(row.Trainings, t.kind+" on "+string(t.completed))
		}
		row.Errors = append(row.Errors, errs...)
		plan.Rows = append(plan.Rows, row)
		plan.users = append(plan.users, u)
		plan.trainings = append(plan.trainings, trainings)
	}
	plan.Errors = append(plan.Errors, unknownTrainingColumns(site, records)...)
	if err := s.planUsernames(ctx, site, plan, reqs); err != nil {
		return nil, err
	}
	if err := s.checkImportAgencies(ctx, site, plan); err != nil {
		return nil, err
	}
	for i, row := range plan.Rows {
		if len(row.Errors) > 0 {
			plan.users[i] = nil
		}
	}
	return plan, nil
}

// planUsernames gives every row its username. Usernames chosen in the file are checked first,
// so a generated one never takes a name the file asks for further down. A chosen username
// someone on the site has is answered as CreateUser answers it, with the next free name made
// from the row's names (once every other row has its name, so the offer is free in the file
// too), never with whose it is.
func (s *Service) planUsernames(ctx context.Context, site *hmisauth.Site, plan *ImportPlan, reqs []NewUser) error {
	planned := map[string]int{} // username key → line that has it
	var unavailable []int       // rows whose chosen username someone has
	for i := range plan.Rows {
		row, name := &plan.Rows[i], strings.TrimSpace(reqs[i].Username)
		if name == "" {
			continue
		}
		row.Username = name
		key := hmisauth.UsernameKey(name)
		if err := ValidateUsername(name); err != nil {
			row.Errors = append(row.Errors, fmt.Sprintf("row %d: %s", row.Line, lowerFirst(hmisauth.ErrorMessage(err))))
		} else if line, ok := planned[key]; ok {
			row.Errors = append(row.Errors, fmt.Sprintf("row %d: the username %s is also on row %d", row.Line, name, line))
		} else if taken, err := s.usernameTaken(ctx, site, name); err != nil {
			return err
		} else if taken {
			unavailable = append(unavailable, i)
		} else {
			planned[key] = row.Line
		}
	}
	// next[base] is the first number worth trying for base: every lower one is planned or taken
	// (-1: none is left).
	next := map[string]int{}
	for i := range plan.Rows {
		row := &plan.Rows[i]
		if strings.TrimSpace(reqs[i].Username) != "" {
			continue
		}
		base := BaseUsername(row.FirstName, row.LastName)
		n := max(next[base], 1)
		for tries := 0; row.Username == ""; n++ {
			cand := usernameCandidate(base, n)
			if _, ok := planned[cand]; ok {
				continue
			}
			if tries++; next[base] < 0 || tries > maxUsernameTries || len(cand) > MaxUsernameLength {
				row.Errors = append(row.Errors, fmt.Sprintf("row %d: there is no free username starting with %s — put one in a username column", row.Line, base))
				n = -1 // the next row with this base need not search again
				break
			}
			taken, err := s.usernameTaken(ctx, site, cand)
			if err != nil {
				return err
			} else if !taken {
				row.Username, planned[cand] = cand, row.Line
			}
		}
		next[base] = n
	}
	for _, i := range unavailable {
		row := &plan.Rows[i]
		free, err := s.freeUsername(ctx, site, BaseUsername(row.FirstName, row.LastName), func(name string) bool {
			_, ok := planned[hmisauth.UsernameKey(name)]
			return ok
		})
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("row %d: the username %s cannot be used — choose another, or leave the username empty to have one made", row.Line, row.Username)
		if free != "" {
			msg = fmt.Sprintf("row %d: the username %s cannot be used; %s is free — or leave the username empty to have one made", row.Line, row.Username, free)
			planned[free] = row.Line // offered once
		}
		row.Errors = append(row.Errors, msg)
	}
	for i, u := range plan.users {
		if u != nil {
			u.Username = plan.Rows[i].Username
		}
	}
	return nil
}

func (s *Service) usernameTaken(ctx context.Context, site *hmisauth.Site, username string) (bool, error) {
	_, err := s.store.User(ctx, site.Key, username)
	switch hmisauth.ErrorCode(err) {
	case "":
		return true, nil
	case hmisauth.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// checkImportAgencies spells each row's agency as the agency does, and adds a file error for
// each agency that has fewer free seats than the file has users for it.
func (s *Service) checkImportAgencies(ctx context.Context, site *hmisauth.Site, plan *ImportPlan) error {
	var order []int64
	rows := map[int64][]int{}
	for i, u := range plan.users {
		if u == nil || u.AgencyID == 0 {
			continue
		}
		if _, ok := rows[u.AgencyID]; !ok {
			order = append(order, u.AgencyID)
		}
		rows[u.AgencyID] = append(rows[u.AgencyID], i)
	}
	for _, id := range order {
		a, err := s.store.Agency(ctx, site.Key, id)
		if err != nil {
			return err
		}
		var lines []string
		for _, i := range rows[id] {
			plan.Rows[i].Agency = a.Name
			lines = append(lines, strconv.Itoa(plan.Rows[i].Line))
		}
		if a.Seats == 0 {
			continue
		}
		used, err := s.store.AgencyUserCount(ctx, id)
		if err != nil {
			return err
		}
		free, adds := max(a.Seats-used, 0), len(lines)
		if adds <= free {
			continue
		}
		which := "rows " + strings.Join(lines, ", ")
		if adds == 1 {
			which = "row " + lines[0]
		}
		plan.Errors = append(plan.Errors, fmt.Sprintf("%s has %s but the file adds %s (%s). Raise the agency's seats or take users out of the file.",
			a.Name, plural(free, "free seat", "no free seats"), plural(adds, "user", ""), which))
	}
	return nil
}

func plural(n int, noun, none string) string {
	switch {
	case n == 0 && none != "":
		return none
	case n == 1:
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// importRowMessage words a profile error for the import preview. Errors that are not about
// the row's content (the database failing) are returned as errors.
func importRowMessage(line int, req NewUser, err error) (string, error) {
	e := hmisauth.AsError(err)
	if e == nil || e.Code != hmisauth.EINVALID {
		return "", err
	}
	_, unprintable := hmisauth.UnprintableRune(req.Agency)
	switch {
	case e.Field == "first" && strings.TrimSpace(req.FirstName) == "":
		return fmt.Sprintf("row %d: no first name", line), nil
	case e.Field == "last" && strings.TrimSpace(req.LastName) == "":
		return fmt.Sprintf("row %d: no last name", line), nil
	case e.Field == "agency" && strings.TrimSpace(req.Agency) != "" && !unprintable:
		return fmt.Sprintf("row %d: there is no agency called %q — create it first", line, truncateRunes(strings.TrimSpace(req.Agency), 60)), nil
	}
	return fmt.Sprintf("row %d: %s", line, lowerFirst(e.Message)), nil
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// Import creates every user of a plan from ParseImport, each with a temporary password, in
// one transaction: all of them or, if any cannot be created, none. A plan with problems is
// refused. The result is in the plan's row order; the passwords are shown once and never stored.
func (s *Service) Import(ctx context.Context, plan *ImportPlan) ([]*Created, error) {
	if plan == nil || len(plan.Rows) == 0 || len(plan.users) != len(plan.Rows) {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "There is nothing to import: preview the file first.")
	}
	if n := len(plan.Problems()); n > 0 {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "The file has %s. Fix the file first, then preview and import it again.", plural(n, "problem", ""))
	}
	site, err := s.Site(plan.Site)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	users := make([]*hmisauth.User, len(plan.users))
	for i, u := range plan.users {
		c := *u // the plan stays as previewed, whatever happens here
		c.PasswordTemporary, c.PasswordChangedAt, c.CreatedAt = true, now, now
		users[i] = &c
	}
	temps, err := s.importPasswords(ctx, site, users)
	if err != nil {
		return nil, err
	}
	evs := make([]*hmisauth.Event, len(users))
	for i, u := range users {
		agency := ""
		if u.AgencyID != 0 {
			agency = ", agency " + plan.Rows[i].Agency // spelled as the agency is, by checkImportAgencies
		}
		evs[i] = s.newEvent(ctx, site, hmisauth.EventUserCreated, u.Username, "imported, role "+string(u.Role)+agency)
	}
	if err := s.store.CreateUsers(hmisauth.WithEvents(ctx, evs...), users); err != nil {
		return nil, importWriteError(plan, err)
	}
	out := make([]*Created, len(users))
	for i, u := range users {
		out[i] = &Created{User: u, TemporaryPassword: temps[i]}
	}
	s.log.InfoContext(ctx, "users imported", "site", site.Key, "count", len(users))
	s.recordImportedTrainings(ctx, site, plan, users)
	return out, nil
}

// importPasswords makes a temporary password for each user, setting its hash, with a few
// hashes at a time.
func (s *Service) importPasswords(ctx context.Context, site *hmisauth.Site, users []*hmisauth.User) ([]string, error) {
	temps := make([]string, len(users))
	errs := make([]error, importHashWorkers)
	var wg sync.WaitGroup
	for w := range importHashWorkers {
		wg.Go(func() {
			for i := w; i < len(users); i += importHashWorkers {
				temp, hash, err := s.newTemporaryPassword(ctx, site, users[i])
				if err != nil {
					errs[w] = err
					return
				}
				temps[i], users[i].PasswordHash = temp, hash
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return temps, nil
}

// importWriteError names the file row of a store error about "row N" of the users written (a
// username taken since the preview, seats filled meanwhile).
func importWriteError(plan *ImportPlan, err error) error {
	e := hmisauth.AsError(err)
	if e == nil {
		return err
	}
	n, convErr := strconv.Atoi(strings.TrimPrefix(e.Field, "row "))
	if convErr != nil || !strings.HasPrefix(e.Field, "row ") || n < 1 || n > len(plan.Rows) {
		return hmisauth.Errorf(e.Code, "%s Nothing was imported.", e.Message)
	}
	row := plan.Rows[n-1]
	msg := fmt.Sprintf("row %d: %s Nothing was imported: preview the file again.", row.Line, e.Message)
	if e.Code == hmisauth.ECONFLICT {
		msg = fmt.Sprintf("row %d: the username %s was taken since the preview. Nothing was imported: preview the file again.", row.Line, row.Username)
	}
	return &hmisauth.Error{Code: e.Code, Message: msg, Field: "row " + strconv.Itoa(row.Line)}
}
