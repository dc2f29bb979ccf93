package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
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
	key := hmisauth.UsernameKey(u.Username)
	attempt, err := s.store.ReserveLoginAttempt(ctx, site.Key, key, site.Policy.Lockout.Threshold, now)
	if err != nil {
		return "", err
	}
	if !attempt.Allowed {
		return "", lockedError(site)
	}
	ok, _, err := slot.Verify(password, u.PasswordHash)
	if err != nil {
		return "", err
	}
	slot.Release()
	if !ok {
		s.log.InfoContext(ctx, "re-authentication failed", "site", site.Key, "username", u.Username, "attempt", attempt.Count)
		if err := s.countFailure(ctx, site, u, attempt, hmisauth.EventReauthFailed, "wrong password"); err != nil {
			return "", err
		}
		return "", &hmisauth.Error{Code: hmisauth.ECurrentPasswordWrong, Field: "password",
			Message: "That password is not right. Type it again."}
	}
	if err := s.store.ReleaseLoginAttempt(ctx, site.Key, key, attempt); err != nil {
		return "", err
	}
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

// countFailure records a failed proof by a known user (a wrong password typed again, a wrong
// 2-step code) whose attempt stays counted; at the threshold it locks the account, ending its
// sessions, and answers account_locked.
func (s *Service) countFailure(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, attempt hmisauth.Attempt, action, detail string) error {
	evs := []*hmisauth.Event{s.newEvent(ctx, site, action, u.Username, detail)}
	if attempt.Count < site.Policy.Lockout.Threshold {
		s.record(ctx, evs...)
		return nil
	}
	evs = append(evs, s.newEvent(ctx, site, hmisauth.EventAccountLocked, u.Username,
		fmt.Sprintf("locked after %d failed attempts", attempt.Count)))
	s.record(ctx, evs...)
	if err := s.store.DeleteUserSessions(ctx, u.ID, 0, hmisauth.EndedLocked, s.clock.Now()); err != nil {
		return err
	}
	return lockedError(site)
}
