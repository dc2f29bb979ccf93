package auth

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hmisauth/hmisauth"
)

// Admin is a signed-in administrator's view of their site: every administrative operation the
// web console and the JSON API offer, with the principal as the audited actor and their role's
// scope checked before anything changes. It is the one place roles are enforced for signed-in
// callers; the command line, run by a trusted operator, calls the Service directly.
//
// A sysadmin administers every user and agency of their own site. An agency admin administers
// only the users of their own agency: they cannot reach a sysadmin, move anyone to another
// agency, make anyone a sysadmin, change agencies or read the audit log; they import users
// only into their own agency. Nobody reaches another site: everything is looked up on the
// principal's site only.
type Admin struct {
	svc *Service
	p   *Principal
}

// Admin returns the principal's administrative powers: EFORBIDDEN for anyone who is not a
// sysadmin or an agency admin (with an agency), and the pending required action's error for an
// administrator who has not finished signing in (a temporary password opens nothing else).
func (s *Service) Admin(p *Principal) (*Admin, error) {
	if p == nil || p.User == nil || p.Site == nil || p.User.Site != p.Site.Key {
		return nil, forbidden()
	}
	switch p.User.Role {
	case hmisauth.RoleSysadmin:
	case hmisauth.RoleAgencyAdmin:
		if p.User.AgencyID == 0 {
			// Scoping by "agency 0" would mean every user without an agency: refuse instead.
			return nil, forbidden()
		}
	default:
		return nil, forbidden()
	}
	if err := p.Require(""); err != nil {
		return nil, err
	}
	return &Admin{svc: s, p: p}, nil
}

func forbidden() error {
	return hmisauth.Errorf(hmisauth.EFORBIDDEN, "You do not have permission to do this.")
}

// Principal is who this Admin acts as.
func (a *Admin) Principal() *Principal { return a.p }

// Site is the one site this Admin reaches.
func (a *Admin) Site() *hmisauth.Site { return a.p.Site }

// IsSysadmin reports whether the whole site is in scope (else only the admin's agency).
func (a *Admin) IsSysadmin() bool { return a.p.User.Role == hmisauth.RoleSysadmin }

// actor returns ctx with the principal as the audited actor, from the request's address (or,
// failing that, the address the session signed in from).
func (a *Admin) actor(ctx context.Context) context.Context {
	act := Actor{Username: a.p.User.Username, ClientAddr: ActorOf(ctx).ClientAddr}
	if act.ClientAddr == "" && a.p.Session != nil {
		act.ClientAddr = a.p.Session.ClientAddr
	}
	return WithActor(ctx, act)
}

// target finds a user this admin may act on. An agency admin hears the same for a user of
// another agency as for one that does not exist, so usernames elsewhere on the site stay
// unknown to them.
func (a *Admin) target(ctx context.Context, username string) (*hmisauth.User, error) {
	_, u, err := a.svc.FindUser(ctx, a.p.Site.Key, username)
	if a.IsSysadmin() {
		return u, err
	}
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND || (err == nil && !a.inScope(u)) {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "There is no user %q in your agency.", username)
	}
	return u, err
}

// inScope reports whether an agency admin may act on u: a user (or fellow agency admin) of
// their own agency, never a sysadmin, who could otherwise be taken over through their e-mail
// address or a temporary password.
func (a *Admin) inScope(u *hmisauth.User) bool {
	return u.Site == a.p.Site.Key && u.AgencyID == a.p.User.AgencyID && u.Role != hmisauth.RoleSysadmin
}

// ownAgency is the agency admin's agency.
func (a *Admin) ownAgency(ctx context.Context) (*hmisauth.Agency, error) {
	return a.svc.store.Agency(ctx, a.p.Site.Key, a.p.User.AgencyID)
}

// checkProfile refuses what an agency admin may not set: another agency, or the sysadmin role.
// An agency they may name is rewritten to their agency's exact name, so the lookup that
// follows cannot land on another agency whose name merely compares equal.
func (a *Admin) checkProfile(ctx context.Context, agency, role *string) error {
	if a.IsSysadmin() {
		return nil
	}
	if role != nil {
		r, err := hmisauth.ParseRole(*role)
		if err != nil {
			return err
		}
		if r == hmisauth.RoleSysadmin {
			return hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can make someone a system administrator.")
		}
	}
	if agency != nil {
		own, err := a.ownAgency(ctx)
		if err != nil {
			return err
		}
		// Compared by name, not looked up, so the answer says nothing of other agencies.
		if !strings.EqualFold(strings.TrimSpace(*agency), own.Name) {
			return hmisauth.Errorf(hmisauth.EFORBIDDEN, "You can only manage users of your own agency, %s.", own.Name)
		}
		*agency = own.Name
	}
	return nil
}

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
	if err := a.svc.store.DeleteUserSessions(ctx, u.ID, 0, hmisauth.EndedByHelpdesk, a.svc.clock.Now()); err != nil {
		return err
	}
	a.svc.log.InfoContext(ctx, "sessions ended", "site", a.p.Site.Key, "username", u.Username)
	return nil
}

// Agencies lists the agencies in scope: all of the site's for a sysadmin, their own for an
// agency admin.
func (a *Admin) Agencies(ctx context.Context) ([]*hmisauth.Agency, error) {
	if !a.IsSysadmin() {
		own, err := a.ownAgency(ctx)
		if err != nil {
			return nil, err
		}
		return []*hmisauth.Agency{own}, nil
	}
	return a.svc.store.Agencies(ctx, a.p.Site.Key)
}

// Agency finds an agency in scope by its ID.
func (a *Admin) Agency(ctx context.Context, id int64) (*hmisauth.Agency, error) {
	if !a.IsSysadmin() && id != a.p.User.AgencyID {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "You can only see your own agency.")
	}
	ag, err := a.svc.store.Agency(ctx, a.p.Site.Key, id)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no agency #%d on %s.", id, a.p.Site.Name)
	}
	return ag, err
}

// SeatsUsed counts an agency's users that hold a seat (are not disabled).
func (a *Admin) SeatsUsed(ctx context.Context, ag *hmisauth.Agency) (int, error) {
	if ag.Site != a.p.Site.Key || (!a.IsSysadmin() && ag.ID != a.p.User.AgencyID) {
		return 0, forbidden()
	}
	return a.svc.store.AgencyUserCount(ctx, ag.ID)
}

// CreateAgency adds an agency to the site (sysadmin only).
func (a *Admin) CreateAgency(ctx context.Context, c AgencyChange) (*hmisauth.Agency, error) {
	if !a.IsSysadmin() {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can add agencies.")
	}
	return a.svc.CreateAgency(a.actor(ctx), a.p.Site.Key, c)
}

// UpdateAgency changes an agency, found by its ID (sysadmin only).
func (a *Admin) UpdateAgency(ctx context.Context, id int64, c AgencyChange) (*hmisauth.Agency, error) {
	if !a.IsSysadmin() {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can change agencies.")
	}
	ag, err := a.Agency(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := applyAgencyChange(ag, c); err != nil {
		return nil, err
	}
	ctx = a.svc.audit(a.actor(ctx), a.p.Site, hmisauth.EventAgencyUpdated, "", agencySummary(ag))
	if err := a.svc.store.UpdateAgency(ctx, ag); err != nil {
		return nil, err
	}
	a.svc.log.InfoContext(ctx, "agency updated", "site", ag.Site, "agency", ag.Name)
	return ag, nil
}

// Audit lists the site's audit events matching q, newest first (sysadmin only: the log names
// every agency's users).
func (a *Admin) Audit(ctx context.Context, q hmisauth.EventQuery) ([]*hmisauth.Event, error) {
	if !a.IsSysadmin() {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can read the audit log.")
	}
	q.Site = a.p.Site.Key
	return a.svc.store.Events(ctx, q)
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

// agencyMap is the agencies in scope by ID, so a list of users needs no lookup per user.
func (a *Admin) agencyMap(ctx context.Context) (map[int64]*hmisauth.Agency, error) {
	all, err := a.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]*hmisauth.Agency, len(all))
	for _, ag := range all {
		m[ag.ID] = ag
	}
	return m, nil
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
