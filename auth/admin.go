package auth

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// NewUser is an account the helpdesk creates.
type NewUser struct {
	Site      string
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Agency    string // agency name; "" for none
	Role      string // user (default), agency_admin, sysadmin
	Username  string // "" to generate first initial + last name
}

// Created is a new account with its temporary password, which is shown once and never stored.
type Created struct {
	User              *hmisauth.User
	TemporaryPassword string
}

// maxUsernameTries bounds jdoe, jdoe2, … so a pathological clash cannot loop for long.
const maxUsernameTries = 1000

// CreateUser creates an account with a temporary password. Without a chosen username it is
// first initial + last name (jdoe), with a number added on a clash (jdoe2).
func (s *Service) CreateUser(ctx context.Context, req NewUser) (*Created, error) {
	site, err := s.Site(req.Site)
	if err != nil {
		return nil, err
	}
	u := &hmisauth.User{Site: site.Key}
	agency, err := s.fillProfile(ctx, site, u, req)
	if err != nil {
		return nil, err
	}
	if req.Username != "" {
		if err := ValidateUsername(req.Username); err != nil {
			return nil, err
		}
	}
	temp, hash, err := s.newTemporaryPassword(ctx, site, u)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	u.PasswordHash, u.PasswordTemporary, u.PasswordChangedAt, u.CreatedAt = hash, true, now, now

	// The event names the username, which is only final when the insert succeeds: each try
	// carries its own.
	created := func(u *hmisauth.User) context.Context {
		return s.audit(ctx, site, hmisauth.EventUserCreated, u.Username, "role "+string(u.Role)+agencyDetail(agency))
	}
	if req.Username != "" {
		u.Username = req.Username
		err := s.store.CreateUser(created(u), u)
		if hmisauth.ErrorCode(err) == hmisauth.ECONFLICT {
			// The store's "already taken" would do for the helpdesk, but the same answer must
			// serve an agency administrator, who may not learn more than that it is in use.
			return nil, s.usernameUnavailable(ctx, site, req.Username, u.FirstName, u.LastName, nil)
		} else if err != nil {
			return nil, err
		}
	} else {
		base := BaseUsername(u.FirstName, u.LastName)
		for n := 1; ; n++ {
			if n > maxUsernameTries {
				return nil, hmisauth.Errorf(hmisauth.ECONFLICT, "Could not find a free username starting with %q; choose one.", base)
			}
			u.Username = usernameCandidate(base, n)
			err := s.store.CreateUser(created(u), u)
			if err == nil {
				break
			} else if hmisauth.ErrorCode(err) != hmisauth.ECONFLICT {
				return nil, err
			}
		}
	}
	s.log.InfoContext(ctx, "user created", "site", site.Key, "username", u.Username, "role", u.Role)
	return &Created{User: u, TemporaryPassword: temp}, nil
}

// newTemporaryPassword makes a temporary password for u (its username may not be final yet)
// and its hash; the password is shown once and never stored. It meets the site's password
// rules, u's names and the site's name included: one that breaks any (a group that happens to
// spell a name, very rarely) is drawn again.
func (s *Service) newTemporaryPassword(ctx context.Context, site *hmisauth.Site, u *hmisauth.User) (temp, hash string, err error) {
	p := site.Policy.Password
	who := password.Person{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, SiteName: site.Name}
	for range maxTemporaryDraws {
		if temp = password.Temporary(p); len(password.Check(p, temp, who)) == 0 {
			break
		}
	}
	hash, err = s.hasher.Hash(ctx, temp)
	return temp, hash, err
}

// maxTemporaryDraws bounds the draws of newTemporaryPassword: a policy that no readable
// password can meet (a forbidden word of one letter) gets the last draw rather than a loop.
const maxTemporaryDraws = 100

// fillProfile validates and copies the editable fields of req into u, and returns u's agency
// (nil for none).
func (s *Service) fillProfile(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, req NewUser) (*hmisauth.Agency, error) {
	u.FirstName, u.LastName = strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName)
	if err := ValidateText("first", "first name", u.FirstName); err != nil {
		return nil, err
	}
	if err := ValidateText("last", "last name", u.LastName); err != nil {
		return nil, err
	}
	switch {
	case u.FirstName == "":
		return nil, hmisauth.FieldError("first", "Enter the person's first name.")
	case u.LastName == "":
		return nil, hmisauth.FieldError("last", "Enter the person's last name.")
	case utf8.RuneCountInString(u.FirstName) > 100 || utf8.RuneCountInString(u.LastName) > 100:
		return nil, hmisauth.FieldError("last", "Names can be at most 100 characters.")
	}
	email, err := ValidateEmail(req.Email)
	if err != nil {
		return nil, err
	}
	phone, err := ValidatePhone(req.Phone)
	if err != nil {
		return nil, err
	}
	role, err := hmisauth.ParseRole(req.Role)
	if err != nil {
		return nil, err
	}
	u.Email, u.Phone, u.Role, u.AgencyID = email, phone, role, 0
	var agency *hmisauth.Agency
	if name := strings.TrimSpace(req.Agency); name != "" {
		if err := ValidateText("agency", "agency name", name); err != nil {
			return nil, err
		}
		agency, err = s.store.AgencyByName(ctx, site.Key, name)
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return nil, hmisauth.FieldError("agency", "There is no agency called \""+name+"\" on "+site.Name+". Create the agency first.")
		} else if err != nil {
			return nil, err
		}
		u.AgencyID = agency.ID
	}
	if role == hmisauth.RoleAgencyAdmin && u.AgencyID == 0 {
		return nil, hmisauth.FieldError("agency", "An agency administrator must belong to an agency.")
	}
	return agency, nil
}

// ValidateEmail checks an e-mail address from outside input; "" is allowed (no e-mail on file).
func ValidateEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if err := ValidateText("email", "e-mail address", s); err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") || len(s) > 254 {
		return "", hmisauth.FieldError("email", "Enter an e-mail address like name@agency.org.")
	}
	return s, nil
}

// ValidatePhone checks a phone number from outside input; "" is allowed.
func ValidatePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := ValidateText("phone", "phone number", s); err != nil {
		return "", err
	}
	if len(s) > 32 {
		return "", hmisauth.FieldError("phone", "A phone number can be at most 32 characters.")
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789 +-().xext", r) {
			return "", hmisauth.FieldError("phone", "Enter a phone number using digits, spaces and + ( ) - only, like 555-0100 x12.")
		}
	}
	return s, nil
}

// ProfileChange is an administrator's edit of an account; nil fields stay as they are.
type ProfileChange struct {
	FirstName, LastName, Email, Phone, Agency, Role *string
}

// UpdateUser edits an account's names, e-mail, phone, agency and role, with the same checks as
// creating one.
func (s *Service) UpdateUser(ctx context.Context, siteKey, username string, c ProfileChange) (*hmisauth.User, error) {
	site, u, err := s.FindUser(ctx, siteKey, username)
	if err != nil {
		return nil, err
	}
	role := u.Role
	req := NewUser{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone, Role: string(u.Role)}
	if u.AgencyID != 0 {
		a, err := s.store.Agency(ctx, site.Key, u.AgencyID)
		if err != nil {
			return nil, err
		}
		req.Agency = a.Name
	}
	for _, f := range []struct{ from, to *string }{{c.FirstName, &req.FirstName}, {c.LastName, &req.LastName},
		{c.Email, &req.Email}, {c.Phone, &req.Phone}, {c.Agency, &req.Agency}, {c.Role, &req.Role}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	agency, err := s.fillProfile(ctx, site, u, req)
	if err != nil {
		return nil, err
	}
	if err := s.store.UpdateUserProfile(s.audit(ctx, site, hmisauth.EventUserUpdated, u.Username,
		"role "+string(u.Role)+agencyDetail(agency)), u); err != nil {
		return nil, err
	}
	if u.Role != role {
		// A change of privilege: the user signs in again and gets a new session token.
		count := s.countEnded(ctx, site.Key, u.ID, 0, hmisauth.EndedByHelpdesk)
		err := s.store.DeleteUserSessions(ctx, u.ID, 0, hmisauth.EndedByHelpdesk, s.clock.Now())
		count(err)
		if err != nil {
			return nil, err
		}
	}
	s.log.InfoContext(ctx, "user updated", "site", site.Key, "username", u.Username)
	return s.store.UserByID(ctx, u.ID)
}

// FindUser finds an account on a site by username.
func (s *Service) FindUser(ctx context.Context, siteKey, username string) (*hmisauth.Site, *hmisauth.User, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.User(ctx, site.Key, username)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no user %q on %s.", username, site.Name)
	}
	return site, u, err
}

// SetTemporaryPassword gives the user a new temporary password, shown once: it ends their
// sessions, clears the lockout and reactivates an inactive account, since the helpdesk has
// just confirmed who they are.
func (s *Service) SetTemporaryPassword(ctx context.Context, siteKey, username string) (*Created, error) {
	site, u, err := s.FindUser(ctx, siteKey, username)
	if err != nil {
		return nil, err
	}
	temp, hash, err := s.newTemporaryPassword(ctx, site, u)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	ctx = s.audit(ctx, site, hmisauth.EventTemporaryPasswordSet, u.Username, "sessions ended, lockout cleared")
	count := s.countEnded(ctx, site.Key, u.ID, 0, hmisauth.EndedByHelpdesk)
	err = s.store.SetPassword(ctx, hmisauth.PasswordChange{
		UserID: u.ID, Hash: hash, Temporary: true, At: now, History: site.Policy.Password.History,
	})
	count(err)
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "temporary password set", "site", site.Key, "username", u.Username)
	return s.reload(ctx, u.ID, temp)
}

func (s *Service) reload(ctx context.Context, id int64, temp string) (*Created, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Created{User: u, TemporaryPassword: temp}, nil
}

// Unlock clears a lockout after failed sign-ins.
func (s *Service) Unlock(ctx context.Context, siteKey, username string) (*hmisauth.User, error) {
	return s.adminStep(ctx, siteKey, username, hmisauth.EventUserUnlocked, "", func(ctx context.Context, u *hmisauth.User) error {
		return s.store.Unlock(ctx, u.ID)
	})
}

// ExpirePassword makes the user choose a new password at their next sign-in.
func (s *Service) ExpirePassword(ctx context.Context, siteKey, username string) (*hmisauth.User, error) {
	return s.adminStep(ctx, siteKey, username, hmisauth.EventPasswordExpiredByAdm, "", func(ctx context.Context, u *hmisauth.User) error {
		return s.store.ExpirePassword(ctx, u.ID)
	})
}

// SetDisabled disables (ending every session) or enables an account. A disable through it
// gives no reason of its own: it is Disable with reason "other", reported today.
func (s *Service) SetDisabled(ctx context.Context, siteKey, username string, disabled bool) (*hmisauth.User, error) {
	if disabled {
		return s.Disable(ctx, siteKey, username, Departure{Reason: hmisauth.DepartureOther})
	}
	return s.adminStep(ctx, siteKey, username, hmisauth.EventUserEnabled, "", func(ctx context.Context, u *hmisauth.User) error {
		return s.store.SetDisabled(ctx, u.ID, false, s.clock.Now())
	})
}

// Departure is what an administrator says when disabling an account: why (one of
// hmisauth.DepartureReasons) and the day the agency reported it (zero: today).
type Departure struct {
	Reason     string
	ReportedOn hmisauth.Date
}

// Disable disables an account (ending every session) and records why and when the agency
// reported it, in one step (Store.Disable), audited with the reason. The reported day may
// not be in the site's future.
func (s *Service) Disable(ctx context.Context, siteKey, username string, d Departure) (*hmisauth.User, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(hmisauth.DepartureReasons, d.Reason) {
		return nil, hmisauth.FieldError("reason", "Choose why the account is being disabled: left the agency, a violation, or another reason.")
	}
	now := s.clock.Now()
	today := site.Today(now)
	switch {
	case d.ReportedOn.IsZero():
		d.ReportedOn = today
	case today.Before(d.ReportedOn):
		return nil, hmisauth.FieldError("reported_on", "The day the agency reported it cannot be after today ("+string(today)+").")
	}
	detail := "reason: " + d.Reason + ", reported " + string(d.ReportedOn)
	by := ActorOf(ctx).Username
	return s.adminStep(ctx, siteKey, username, hmisauth.EventUserDisabled, detail, func(ctx context.Context, u *hmisauth.User) error {
		count := s.countEnded(ctx, siteKey, u.ID, 0, hmisauth.EndedByHelpdesk)
		err := s.store.Disable(ctx, &hmisauth.Departure{UserID: u.ID, Reason: d.Reason, ReportedOn: d.ReportedOn,
			DisabledAt: now, DisabledBy: by})
		count(err)
		return err
	})
}

// Departures lists the site's disabled accounts with why and when (the monitoring pack's
// departures and their timeliness), oldest disable first.
func (s *Service) Departures(ctx context.Context, siteKey string) ([]*hmisauth.Departure, error) {
	if _, err := s.Site(siteKey); err != nil {
		return nil, err
	}
	return s.store.Departures(ctx, siteKey)
}

// Agreement is a signed user agreement: the user, their supervisor and the agency's executive
// director sign; it runs until Expires.
type Agreement struct {
	Signed, Supervisor, Director, Expires hmisauth.Date
}

// RecordAgreement records the user agreement. Without an expiry it runs a year from the last
// signature.
func (s *Service) RecordAgreement(ctx context.Context, siteKey, username string, a Agreement) (*hmisauth.User, error) {
	if a.Signed.IsZero() {
		return nil, hmisauth.FieldError("signed_on", "Enter the date the user signed the agreement.")
	}
	last := a.Signed
	for _, d := range []hmisauth.Date{a.Supervisor, a.Director} {
		if !d.IsZero() && last.Before(d) {
			last = d
		}
	}
	if a.Expires.IsZero() {
		a.Expires = last.AddDays(365)
	} else if a.Expires.Before(last) {
		return nil, hmisauth.FieldError("expires_on", "The agreement cannot expire before it was signed.")
	}
	return s.adminStep(ctx, siteKey, username, hmisauth.EventAgreementRecorded, "signed "+string(a.Signed)+", expires "+string(a.Expires),
		func(ctx context.Context, u *hmisauth.User) error {
			return s.store.SetAgreement(ctx, u.ID, a.Signed, a.Supervisor, a.Director, a.Expires)
		})
}

// ResetMFA removes every second factor of the account (authenticator app, recovery codes,
// passkeys, remembered devices) and signs it out everywhere: for a user who lost their phone.
// They sign in with their password alone and, if their site requires it, set up 2-step
// verification again at once. The user is e-mailed that the helpdesk did it: a caller who
// talked the helpdesk into it is heard of.
func (s *Service) ResetMFA(ctx context.Context, siteKey, username string) (*hmisauth.User, error) {
	return s.adminStep(ctx, siteKey, username, hmisauth.EventMFAReset, "", func(ctx context.Context, u *hmisauth.User) error {
		site, err := s.Site(siteKey)
		if err != nil {
			return err
		}
		notice, err := s.mfaChangedNotice(site, u, hmisauth.MFAChangeReset, "", s.clock.Now(), "")
		if err != nil {
			return err
		}
		count := s.countEnded(ctx, site.Key, u.ID, 0, hmisauth.EndedByHelpdesk)
		err = s.store.ResetSecondFactors(ctx, u.ID, s.clock.Now(), notice)
		count(err)
		if err != nil {
			return err
		}
		if notice != nil {
			s.kick()
		}
		return nil
	})
}

// adminStep finds the user, applies one store step carrying its audit event, and returns the
// account as it is now.
func (s *Service) adminStep(ctx context.Context, siteKey, username, action, detail string, step func(context.Context, *hmisauth.User) error) (*hmisauth.User, error) {
	site, u, err := s.FindUser(ctx, siteKey, username)
	if err != nil {
		return nil, err
	}
	if err := step(s.audit(ctx, site, action, u.Username, detail), u); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, action, "site", site.Key, "username", u.Username)
	return s.store.UserByID(ctx, u.ID)
}

func agencyDetail(a *hmisauth.Agency) string {
	if a == nil {
		return ""
	}
	return ", agency " + a.Name
}

// EnsureAdministrator creates the site's first system administrator, "admin", when the site has
// none, and returns it with its temporary password; nil when one exists already.
func (s *Service) EnsureAdministrator(ctx context.Context, siteKey string) (*Created, error) {
	n, err := s.store.SysadminCount(ctx, siteKey)
	if err != nil || n > 0 {
		return nil, err
	}
	ctx = WithActor(ctx, Actor{Username: "system"})
	c, err := s.CreateUser(ctx, NewUser{Site: siteKey, FirstName: "System", LastName: "Administrator",
		Role: string(hmisauth.RoleSysadmin), Username: "admin"})
	if hmisauth.ErrorCode(err) != hmisauth.ECONFLICT {
		return c, err
	}
	// "admin" is taken. Most often another server starting on the same database has just
	// created it: then the site has its administrator, and a second would only confuse.
	if n, err := s.store.SysadminCount(ctx, siteKey); err != nil || n > 0 {
		return nil, err
	}
	// An account that is not an administrator holds the name: the administrator gets a
	// generated one.
	return s.CreateUser(ctx, NewUser{Site: siteKey, FirstName: "System", LastName: "Administrator",
		Role: string(hmisauth.RoleSysadmin)})
}
