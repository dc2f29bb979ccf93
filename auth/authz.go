package auth

import (
	"context"
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
// agency, make anyone a sysadmin or change agencies; they import users only into their own
// agency. Only the one a sysadmin made their agency's security officer reads the audit log,
// and then only their agency's events (see Audit). Nobody reaches another site: everything is looked up on the
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

// Audit lists the site's audit events matching q, newest first: every event for a sysadmin,
// and for an agency's security officer only the events that concern their agency's users or
// were done by them (Event.AgencyID, Event.ActorAgencyID). Other agency admins are refused:
// the log names every agency's users.
func (a *Admin) Audit(ctx context.Context, q hmisauth.EventQuery) ([]*hmisauth.Event, error) {
	switch {
	case a.IsSysadmin():
		q.AgencyID = 0
	case a.IsSecurityOfficer():
		q.AgencyID = a.p.User.AgencyID
	default:
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN,
			"Only a system administrator or your agency's security officer can read the audit log.")
	}
	q.Site = a.p.Site.Key
	return a.svc.store.Events(ctx, q)
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
