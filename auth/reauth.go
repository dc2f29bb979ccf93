package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// ReauthUntil is when the security settings close again: session.reauth after the password
// was last typed (at sign-in, or again on the security page).
func (p *Principal) ReauthUntil() time.Time {
	if p.Session.ReauthAt.IsZero() {
		return time.Time{}
	}
	return p.Session.ReauthAt.Add(p.Site.Policy.Session.Reauth)
}

// ReauthFresh reports whether the security settings are open at now.
func (p *Principal) ReauthFresh(now time.Time) bool {
	until := p.ReauthUntil()
	return !until.IsZero() && now.Before(until)
}

// requireReauth refuses a change to security settings unless the password was typed again
// within session.reauth. A pending required action is its own permission: a user setting up
// what their site requires at sign-in has just typed their password.
func (s *Service) requireReauth(p *Principal, action string) error {
	if err := p.Require(action); err != nil {
		return err
	}
	if action != "" && p.NextAction() == action || p.ReauthFresh(s.clock.Now()) {
		return nil
	}
	return &hmisauth.Error{Code: hmisauth.EReauthRequired,
		Message: "For your security, type your password again before changing your security settings."}
}

// Reauthenticate checks the signed-in user's password again and opens the security settings
// for session.reauth. A wrong password counts toward the lockout like one at sign-in (whoever
// holds the session is guessing). With rotate, the session gets a new token, returned: the
// web does this, so a session token seen before the re-authentication is worth less after it.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, password string, rotate bool) (string, error) {
	if err := p.Require(""); err != nil {
		return "", err
	}
	switch {
	case password == "":
		return "", hmisauth.FieldError("password", "Enter your password.")
	case len(password) > maxPasswordBytes:
		return "", hmisauth.FieldError("password", "That is longer than any password. Check what you typed.")
	}
	slot, err := s.hasher.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer slot.Release()
	site, u, now := p.Site, p.User, s.clock.Now()
	ctx = s.actorContext(ctx, p)
	if err := s.checkOwnPassword(ctx, slot, p, password, &hmisauth.Error{Code: hmisauth.ECurrentPasswordWrong,
		Field: "password", Message: "That password is not right. Type it again."}); err != nil {
		return "", err
	}
	slot.Release()
	var token string
	var hash []byte
	if rotate {
		token, hash = newToken()
	}
	ctx = s.auditAs(ctx, p, hmisauth.EventReauthenticated, "")
	if err := s.store.Reauthenticated(ctx, p.Session.ID, now, hash); err != nil {
		return "", err
	}
	p.Session.ReauthAt = now
	if hash != nil {
		p.Session.TokenHash = hash
	}
	s.log.InfoContext(ctx, "re-authenticated", "site", site.Key, "username", u.Username, "session", p.Session.ID)
	return token, nil
}

// checkOwnPassword checks the password a signed-in user typed to prove it is still them (to
// open the security settings, change the password or the e-mail address). It counts toward
// the lockout like a sign-in, since whoever holds the session may be guessing: a locked
// account answers account_locked, a wrong password wrong (its attempt stays counted), a right
// one gives its attempt back. The session that guesses its way to the lock ends; the user's
// other sessions stay, as for any lock.
func (s *Service) checkOwnPassword(ctx context.Context, slot *password.Slot, p *Principal, pw string, wrong *hmisauth.Error) error {
	site, u := p.Site, p.User
	key := hmisauth.UsernameKey(u.Username)
	attempt, err := s.store.ReserveLoginAttempt(ctx, site.Key, key, site.Policy.Lockout.Threshold, s.clock.Now())
	if err != nil {
		return err
	}
	if !attempt.Allowed {
		return lockedError(site)
	}
	ok, _, err := slot.Verify(pw, u.PasswordHash)
	if err != nil {
		return err
	}
	if ok {
		return s.store.ReleaseLoginAttempt(ctx, site.Key, key, attempt)
	}
	s.log.InfoContext(ctx, "password typed again was wrong", "site", site.Key, "username", u.Username, "attempt", attempt.Count)
	if err := s.countFailure(ctx, site, u, attempt, hmisauth.EventReauthFailed, "wrong password"); err != nil {
		if endErr := s.store.EndUserSession(ctx, u.ID, p.Session.ID, hmisauth.EndedLocked, s.clock.Now()); endErr != nil {
			return endErr
		}
		s.metrics.SessionEnded(site.Key, hmisauth.EndedLocked, 1)
		return err
	}
	return wrong
}

// countFailure records a failed proof by a known user (a wrong password typed again, a wrong
// 2-step code) whose attempt stays counted; at the threshold it answers account_locked (the
// count locked the account). Like a lock at sign-in, it leaves the user's sessions open.
func (s *Service) countFailure(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, attempt hmisauth.Attempt, action, detail string) error {
	evs := []*hmisauth.Event{s.newEvent(ctx, site, action, u.Username, detail)}
	if attempt.Count < site.Policy.Lockout.Threshold {
		s.record(ctx, evs...)
		return nil
	}
	evs = append(evs, s.newEvent(ctx, site, hmisauth.EventAccountLocked, u.Username,
		fmt.Sprintf("locked after %d failed attempts", attempt.Count)))
	s.record(ctx, evs...)
	return lockedError(site)
}
