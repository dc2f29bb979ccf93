package auth

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hmisauth/hmisauth"
)

// What an Admin does to users: one user's actions, the user list with its filters, and bulk
// import, each kept to the admin's scope (see Admin).

// CreateUser creates an account on the admin's site. An agency admin's new users join their
// agency (when req names none) as a user or agency admin.
func (a *Admin) CreateUser(ctx context.Context, req NewUser) (*Created, error) {
	req.Site = a.p.Site.Key
	if !a.IsSysadmin() {
		if strings.TrimSpace(req.Agency) == "" {
			own, err := a.ownAgency(ctx)
			if err != nil {
				return nil, err
			}
			req.Agency = own.Name
		}
		if err := a.checkProfile(ctx, &req.Agency, &req.Role); err != nil {
			return nil, err
		}
	}
	return a.svc.CreateUser(a.actor(ctx), req)
}

// User is the login doctor's diagnosis of one account in scope.
func (a *Admin) User(ctx context.Context, username string) (*Diagnosis, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	d, err := a.diagnose(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	if d.Factors, err = a.svc.store.SecondFactors(ctx, u.ID); err != nil {
		return nil, err
	}
	if u.Disabled {
		d.Departure, err = a.svc.store.UserDeparture(ctx, u.ID)
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			d.Departure, err = nil, nil // disabled before departures were kept
		}
		if err != nil {
			return nil, err
		}
	}
	if err := a.svc.addTrainings(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (a *Admin) diagnose(ctx context.Context, u *hmisauth.User, agencies map[int64]*hmisauth.Agency) (*Diagnosis, error) {
	d := &Diagnosis{Site: a.p.Site, User: u}
	if u.AgencyID != 0 {
		if ag, ok := agencies[u.AgencyID]; ok {
			d.Agency = ag
		} else {
			ag, err := a.svc.store.Agency(ctx, a.p.Site.Key, u.AgencyID)
			if err != nil {
				return nil, err
			}
			d.Agency = ag
		}
	}
	d.Problems = Problems(a.p.Site, u, d.Agency, a.svc.clock.Now())
	return d, nil
}

// UpdateUser edits an account in scope. An agency admin may not move it to another agency or
// make it a sysadmin.
func (a *Admin) UpdateUser(ctx context.Context, username string, c ProfileChange) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	if c.Agency != nil {
		agency := *c.Agency
		c.Agency = &agency // checkProfile may rewrite it; the caller's string stays theirs
	}
	if err := a.checkProfile(ctx, c.Agency, c.Role); err != nil {
		return nil, err
	}
	return a.svc.UpdateUser(a.actor(ctx), a.p.Site.Key, u.Username, c)
}

// SetTemporaryPassword gives an account in scope a new temporary password, shown once.
func (a *Admin) SetTemporaryPassword(ctx context.Context, username string) (*Created, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.SetTemporaryPassword(a.actor(ctx), a.p.Site.Key, u.Username)
}

// Unlock clears the lockout of an account in scope.
func (a *Admin) Unlock(ctx context.Context, username string) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.Unlock(a.actor(ctx), a.p.Site.Key, u.Username)
}

// ExpirePassword makes an account in scope choose a new password at the next sign-in.
func (a *Admin) ExpirePassword(ctx context.Context, username string) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.ExpirePassword(a.actor(ctx), a.p.Site.Key, u.Username)
}

// SetDisabled disables or enables an account in scope.
func (a *Admin) SetDisabled(ctx context.Context, username string, disabled bool) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.SetDisabled(a.actor(ctx), a.p.Site.Key, u.Username, disabled)
}

// Disable disables an account in scope, recording why and when its agency reported it.
func (a *Admin) Disable(ctx context.Context, username string, d Departure) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.Disable(a.actor(ctx), a.p.Site.Key, u.Username, d)
}

// RecordAgreement records the signed user agreement of an account in scope.
func (a *Admin) RecordAgreement(ctx context.Context, username string, ag Agreement) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.RecordAgreement(a.actor(ctx), a.p.Site.Key, u.Username, ag)
}

// ResetMFA resets an account in scope's 2-step verification (Service.ResetMFA).
func (a *Admin) ResetMFA(ctx context.Context, username string) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.ResetMFA(a.actor(ctx), a.p.Site.Key, u.Username)
}

// EndSessions signs an account in scope out everywhere.
func (a *Admin) EndSessions(ctx context.Context, username string) error {
	u, err := a.target(ctx, username)
	if err != nil {
		return err
	}
	ctx = a.svc.audit(a.actor(ctx), a.p.Site, hmisauth.EventSessionsEnded, u.Username, "")
	count := a.svc.countEnded(ctx, a.p.Site.Key, u.ID, 0, hmisauth.EndedByHelpdesk)
	err = a.svc.store.DeleteUserSessions(ctx, u.ID, 0, hmisauth.EndedByHelpdesk, a.svc.clock.Now())
	count(err)
	if err != nil {
		return err
	}
	a.svc.log.InfoContext(ctx, "sessions ended", "site", a.p.Site.Key, "username", u.Username)
	return nil
}

// User statuses an administrator can filter by. The first three are kept in the store; the
// others are worked out by the login doctor.
const (
	StatusLocked           = "locked"
	StatusDisabled         = "disabled"
	StatusNoEmail          = "no_email"
	StatusInactive         = "inactive"
	StatusPasswordExpired  = "password_expired"
	StatusAgreementExpired = "agreement_expired"
	StatusLicenseExpired   = "license_expired"
)

// UserStatuses lists the statuses UserFilter.Status accepts, in the order forms offer them.
var UserStatuses = []string{StatusLocked, StatusDisabled, StatusInactive, StatusPasswordExpired,
	StatusAgreementExpired, StatusLicenseExpired, StatusNoEmail}

// UserFilter selects users for an administrator's list; zero fields select everything in scope.
type UserFilter struct {
	Text   string // part of the username, name or e-mail
	Agency string // agency name
	Status string // one of UserStatuses
	After  string // the page after this username
	Limit  int    // 0: DefaultUserPage; at most MaxUserPage
}

// Page sizes of user lists.
const (
	DefaultUserPage = 100
	MaxUserPage     = 500
)

// maxUserScan bounds the users one page looks at for a status the doctor works out, so one
// request stays cheap on a large site; a page may then hold fewer than its limit, with Next set.
const maxUserScan = 5000

// UserPage is one page of a user list, each user with the doctor's problems. Next, when set, is
// the After of the following page.
type UserPage struct {
	Users []*Diagnosis
	Next  string
}

// Users lists the users in scope matching f, ordered by username. An agency admin's list only
// ever holds their own agency's users.
func (a *Admin) Users(ctx context.Context, f UserFilter) (*UserPage, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, hmisauth.FieldError("limit", "limit must be a positive number.")
	case limit == 0:
		limit = DefaultUserPage
	case limit > MaxUserPage:
		limit = MaxUserPage
	}
	q := hmisauth.UserQuery{Site: a.p.Site.Key, Text: strings.TrimSpace(f.Text), After: f.After, Limit: limit + 1}
	if !a.IsSysadmin() {
		q.AgencyID = a.p.User.AgencyID
	}
	if name := strings.TrimSpace(f.Agency); name != "" {
		if err := a.checkProfile(ctx, &name, nil); err != nil {
			return nil, err
		}
		ag, err := a.svc.store.AgencyByName(ctx, a.p.Site.Key, name)
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return nil, hmisauth.FieldError("agency", "There is no agency called \""+name+"\" on "+a.p.Site.Name+".")
		} else if err != nil {
			return nil, err
		}
		q.AgencyID = ag.ID
	}
	computed := ""
	switch f.Status {
	case "":
	case StatusLocked:
		q.Locked = true
	case StatusDisabled:
		q.Disabled = true
	case StatusNoEmail:
		q.NoEmail = true
	case StatusInactive, StatusPasswordExpired, StatusAgreementExpired, StatusLicenseExpired:
		computed = f.Status
	default:
		return nil, hmisauth.FieldError("status", "status must be one of "+strings.Join(UserStatuses, ", ")+".")
	}
	if q.AgencyID == 0 && !a.IsSysadmin() {
		return nil, forbidden() // never "every user": Admin refuses such an agency admin already
	}

	agencies, err := a.agencyMap(ctx)
	if err != nil {
		return nil, err
	}
	page := &UserPage{}
	for scanned := 0; scanned < maxUserScan; {
		batch, err := a.svc.store.Users(ctx, q)
		if err != nil {
			return nil, err
		}
		scanned += len(batch)
		for _, u := range batch {
			if !a.IsSysadmin() && !a.inScope(u) {
				// The store was asked for this agency only; a sysadmin among its users is
				// still not the agency admin's to see.
				continue
			}
			d, err := a.diagnose(ctx, u, agencies)
			if err != nil {
				return nil, err
			}
			if computed != "" && !hasProblem(d.Problems, computed) {
				continue
			}
			if len(page.Users) == limit {
				// Another match exists: the next page starts after the last one shown.
				page.Next = page.Users[limit-1].User.Username
				return page, nil
			}
			page.Users = append(page.Users, d)
		}
		if len(batch) < q.Limit {
			return page, nil
		}
		q.After = batch[len(batch)-1].Username
	}
	// Looked at enough for one request: the next page goes on from the last user looked at.
	page.Next = q.After
	return page, nil
}

func hasProblem(ps []hmisauth.Problem, code string) bool {
	for _, p := range ps {
		if p.Code == code {
			return true
		}
	}
	return false
}

// ParseImport plans a bulk import onto the admin's site (see Service.ParseImport). An agency
// admin imports only into their own agency: a row that names no agency joins theirs, and a row
// that names another agency or the sysadmin role is an error of that row.
func (a *Admin) ParseImport(ctx context.Context, r io.Reader) (*ImportPlan, error) {
	if a.IsSysadmin() {
		return a.svc.parseImport(ctx, a.p.Site, r, nil)
	}
	own, err := a.ownAgency(ctx)
	if err != nil {
		return nil, err
	}
	return a.svc.parseImport(ctx, a.p.Site, r, func(line int, req *NewUser) string {
		if role, err := hmisauth.ParseRole(req.Role); err == nil && role == hmisauth.RoleSysadmin {
			return fmt.Sprintf("row %d: only a system administrator can make someone a system administrator", line)
		}
		if name := strings.TrimSpace(req.Agency); name != "" && !strings.EqualFold(name, own.Name) {
			return fmt.Sprintf("row %d: you can only import users of your own agency, %s", line, own.Name)
		}
		req.Agency = own.Name
		return ""
	})
}

// Import creates the users of a plan from ParseImport, audited as this admin. The plan is
// checked against the admin's scope again, so a plan made for someone else is refused whole.
func (a *Admin) Import(ctx context.Context, plan *ImportPlan) ([]*Created, error) {
	if plan == nil || plan.Site != a.p.Site.Key {
		return nil, forbidden()
	}
	if !a.IsSysadmin() {
		for _, u := range plan.users {
			if u != nil && !a.inScope(u) {
				return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "You can only import users of your own agency.")
			}
		}
	}
	return a.svc.Import(a.actor(ctx), plan)
}
