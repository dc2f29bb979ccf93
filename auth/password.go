package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// AcceptTerms records that the user accepted the site's current Terms of Agreement. The
// version they saw must be the current one: terms changed while the page was open must be
// read again.
func (s *Service) AcceptTerms(ctx context.Context, p *Principal, version int) error {
	if err := p.Require(hmisauth.ActionAcceptTerms); err != nil {
		return err
	}
	if version != p.Site.Policy.Terms.Version {
		return &hmisauth.Error{Code: hmisauth.ETermsVersion, Field: "version",
			Message: "The Terms of Agreement changed while you were reading them. Please read the new version and accept it."}
	}
	now := s.clock.Now()
	ctx = s.auditAs(ctx, p, hmisauth.EventTermsAccepted, fmt.Sprintf("version %d", version))
	if err := s.store.AcceptTerms(ctx, p.User.ID, version, now); err != nil {
		return err
	}
	p.User.TermsVersion, p.User.TermsAcceptedAt = version, now
	p.RequiredActions = RequiredActions(p.Site, p.User, now)
	s.log.InfoContext(ctx, "terms accepted", "site", p.Site.Key, "username", p.User.Username, "version", version)
	return nil
}

// PasswordChangeRequest is a signed-in user's new password, typed twice.
type PasswordChangeRequest struct {
	Current string // may be empty while change_password is a required action
	New     string
	Confirm string
}

// ChangePassword replaces the signed-in user's password after checking the current one (not
// needed for a required change, or within session.reauth of the password being typed), the
// site's rules and the history. The other sessions of the user end; this one stays.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, req PasswordChangeRequest) error {
	if err := p.Require(hmisauth.ActionChangePassword); err != nil {
		return err
	}
	forced := p.NextAction() == hmisauth.ActionChangePassword
	if req.Current == "" && !forced && !p.ReauthFresh(s.clock.Now()) {
		// The current password is the re-authentication; a fresh one (the security settings
		// open) stands in for it.
		return &hmisauth.Error{Code: hmisauth.EReauthRequired, Field: "current_password",
			Message: "Enter your current password."}
	}
	if err := s.checkNewPassword(p.Site, p.User, req.New, req.Confirm); err != nil {
		return err
	}

	slot, err := s.hasher.Acquire(ctx)
	if err != nil {
		return err
	}
	defer slot.Release()
	if req.Current != "" {
		if err := s.checkOwnPassword(s.actorContext(ctx, p), slot, p, req.Current, &hmisauth.Error{Code: hmisauth.ECurrentPasswordWrong,
			Field: "current_password", Message: "Your current password is not right. Type it again."}); err != nil {
			return err
		}
	}
	hash, err := s.hashNewPassword(ctx, slot, p.Site, p.User, req.New)
	if err != nil {
		return err
	}
	slot.Release()

	now := s.clock.Now()
	notice, err := s.passwordChangedNotice(p.Site, p.User, now, p.Session.ClientAddr)
	if err != nil {
		return err
	}
	count := s.countEnded(ctx, p.Site.Key, p.User.ID, p.Session.ID, hmisauth.EndedPasswordChanged)
	err = s.store.SetPassword(s.auditAs(ctx, p, hmisauth.EventPasswordChanged, ""), hmisauth.PasswordChange{
		UserID: p.User.ID, Hash: hash, At: now, Mail: notice,
		History: p.Site.Policy.Password.History, KeepSessionID: p.Session.ID,
	})
	count(err)
	if err != nil {
		return err
	}
	if notice != nil {
		s.kick()
	}
	p.User.PasswordHash, p.User.PasswordChangedAt = hash, now
	p.User.PasswordTemporary, p.User.MustChangePassword = false, false
	p.RequiredActions = RequiredActions(p.Site, p.User, now)
	p.PasswordExpiresAt = passwordExpiresAt(p.Site, p.User)
	s.log.InfoContext(ctx, "password changed", "site", p.Site.Key, "username", p.User.Username)
	return nil
}

// checkNewPassword applies the two cheap checks, typed-twice and the site's rules, before any
// hash is spent.
func (s *Service) checkNewPassword(site *hmisauth.Site, u *hmisauth.User, pw, confirm string) error {
	if pw == "" {
		return hmisauth.FieldError("new_password", "Enter a new password.")
	}
	if pw != confirm {
		return &hmisauth.Error{Code: hmisauth.EPasswordMismatch, Field: "confirm_password",
			Message: "The two new passwords are not the same. Type the same new password in both boxes."}
	}
	if v := password.Check(site.Policy.Password, pw, person(site, u)); len(v) > 0 {
		return &hmisauth.Error{Code: hmisauth.EPasswordPolicy, Field: "new_password", Violations: v,
			Message: "This password does not meet the rules. Fix what is listed and try again."}
	}
	return nil
}

func person(site *hmisauth.Site, u *hmisauth.User) password.Person {
	return password.Person{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, SiteName: site.Name}
}

// hashNewPassword checks the new password against the history, then hashes it, in the slot
// the caller holds.
func (s *Service) hashNewPassword(ctx context.Context, slot *password.Slot, site *hmisauth.Site, u *hmisauth.User, pw string) (string, error) {
	if err := s.checkHistory(ctx, slot, site, u, pw); err != nil {
		return "", err
	}
	return slot.Hash(pw)
}

// passwordChangedNotice is the e-mail telling the user their password changed, nil when there
// is no address to send it to.
func (s *Service) passwordChangedNotice(site *hmisauth.Site, u *hmisauth.User, at time.Time, from string) (*hmisauth.Message, error) {
	if u.Email == "" {
		return nil, nil
	}
	return s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailPasswordChanged, Site: site, To: u.Email,
		User: u, At: at, ClientAddr: from})
}

// checkHistory refuses any of the last History passwords, the current one included (and the
// current one always). Each comparison is a full hash, which is why it runs last and only on a
// password change.
func (s *Service) checkHistory(ctx context.Context, slot *password.Slot, site *hmisauth.Site, u *hmisauth.User, pw string) error {
	n := site.Policy.Password.History
	hashes := []string{u.PasswordHash}
	if n > 1 {
		old, err := s.store.PasswordHistory(ctx, u.ID, n-1)
		if err != nil {
			return err
		}
		hashes = append(hashes, old...)
	}
	for _, h := range hashes {
		ok, _, err := slot.Verify(pw, h)
		if err != nil {
			return err
		}
		if ok {
			return &hmisauth.Error{Code: hmisauth.EPasswordReused, Field: "new_password",
				Message: reusedMessage(n)}
		}
	}
	return nil
}

func reusedMessage(n int) string {
	if n <= 1 {
		return "That is your current password. Choose a new one."
	}
	return fmt.Sprintf("You have used this password before. Choose one that is not among your last %d passwords.", n)
}
