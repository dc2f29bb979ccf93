package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/hmisauth/hmisauth"
)

// touchEvery limits session writes: last use is recorded at most this often, so a busy page
// does not write on every request. Idle time-outs are therefore exact to within this much.
const touchEvery = time.Minute

// Principal is a signed-in user on one site, with the session that proves it and what they
// must still do before the session opens anything else.
type Principal struct {
	Site            *hmisauth.Site
	User            *hmisauth.User
	Session         *hmisauth.Session
	RequiredActions []hmisauth.RequiredAction
	// IdleExpiresAt and ExpiresAt say when the session will time out, so pages can warn.
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	// PasswordExpiresAt is when the password expires under the site's max age (zero: never).
	PasswordExpiresAt time.Time
}

// NextAction is the first required action still to do, or "".
func (p *Principal) NextAction() string {
	if len(p.RequiredActions) == 0 {
		return ""
	}
	return p.RequiredActions[0].Name
}

// Require refuses with EActionRequired unless the session may do action now: with nothing
// pending anything goes ("" asks for exactly that); otherwise only the first pending action.
func (p *Principal) Require(action string) error {
	next := p.NextAction()
	if next == "" || next == action {
		return nil
	}
	return &hmisauth.Error{Code: hmisauth.EActionRequired, Message: actionMessage(next)}
}

func actionMessage(action string) string {
	switch action {
	case hmisauth.ActionAcceptTerms:
		return "Please read and accept the Terms of Agreement first."
	case hmisauth.ActionChangePassword:
		return "Please choose a new password first."
	case hmisauth.ActionSetupMFA:
		return "Please set up 2-step verification first."
	default:
		return "Please set up your recovery information first."
	}
}

// newToken returns a 256-bit random session token and its SHA-256 hash (what is stored).
func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how a session token is looked up: never by the token itself.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (s *Service) newSession(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time, addr, agent string, amr []string) (string, *hmisauth.Session, error) {
	token, hash := newToken()
	sid := make([]byte, 16)
	rand.Read(sid)
	sess := &hmisauth.Session{
		Site: site.Key, UserID: u.ID, TokenHash: hash,
		CreatedAt: now, LastSeenAt: now, ReauthAt: now,
		ExpiresAt:  now.Add(site.Policy.Session.Absolute),
		ClientAddr: addr, UserAgent: truncate(agent, 256),
		SID: base64.RawURLEncoding.EncodeToString(sid), AMR: amr,
	}
	if err := s.store.CreateSession(ctx, sess, site.Policy.Session.Single); err != nil {
		return "", nil, err
	}
	s.metrics.SessionStarted(site.Key)
	return token, sess, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Authenticate turns a session token presented on a site into its Principal. Any token that is
// unknown, of another site, or whose account was disabled since, answers EUnauthorized; a
// timed-out one answers ESessionExpired and is removed. A lock from failed sign-ins does not
// end a session: it stops new sign-ins only (whoever types wrong passwords for a username must
// not be able to throw its owner out).
func (s *Service) Authenticate(ctx context.Context, siteKey, token string) (*Principal, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	if token == "" || len(token) > 128 {
		return nil, unauthorized("Please sign in.")
	}
	// The session and its user in one round trip: every signed-in request comes through here.
	sess, u, err := s.store.SessionAndUser(ctx, HashToken(token))
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		reason, err := s.store.SessionEndReason(ctx, HashToken(token), s.clock.Now())
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return nil, unauthorized("Please sign in.")
		} else if err != nil {
			return nil, err
		}
		return nil, endedError(reason)
	} else if err == nil && sess.Site != site.Key {
		return nil, unauthorized("Please sign in.")
	} else if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(site.Policy.Session.Idle)) {
		if err := s.store.DeleteSession(ctx, sess.ID, false); err != nil {
			return nil, err
		}
		s.metrics.SessionEnded(site.Key, hmisauth.EndedTimedOut, 1)
		return nil, &hmisauth.Error{Code: hmisauth.ESessionExpired, Message: "Your session timed out. Please sign in again."}
	}
	if u.Disabled {
		if err := s.store.DeleteSession(ctx, sess.ID, false); err != nil {
			return nil, err
		}
		return nil, unauthorized("Please sign in.")
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return nil, err
		}
		sess.LastSeenAt = now
	}
	return s.principal(site, u, sess, now), nil
}

func unauthorized(msg string) error {
	return &hmisauth.Error{Code: hmisauth.EUnauthorized, Message: msg}
}

// ExtendSession records use of the principal's session now, even within touchEvery of the
// last: the person pressed "Stay signed in" in the time-out warning, so the idle time-out must
// count from this moment, not from up to a minute ago. The absolute end does not move. It
// returns the principal with its new deadlines; a session that ended meanwhile (signed out in
// another tab) answers EUnauthorized.
func (s *Service) ExtendSession(ctx context.Context, p *Principal) (*Principal, error) {
	now := s.clock.Now()
	err := s.store.TouchSession(ctx, p.Session.ID, now)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, unauthorized("Please sign in.")
	} else if err != nil {
		return nil, err
	}
	sess := *p.Session
	if sess.LastSeenAt.Before(now) {
		sess.LastSeenAt = now
	}
	return s.principal(p.Site, p.User, &sess, now), nil
}

func (s *Service) principal(site *hmisauth.Site, u *hmisauth.User, sess *hmisauth.Session, now time.Time) *Principal {
	return &Principal{
		Site: site, User: u, Session: sess,
		RequiredActions:   RequiredActions(site, u, now),
		IdleExpiresAt:     sess.LastSeenAt.Add(site.Policy.Session.Idle),
		ExpiresAt:         sess.ExpiresAt,
		PasswordExpiresAt: passwordExpiresAt(site, u),
	}
}

// Logout ends the principal's session; the applications it signed in to are told.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.signedOut(p.Site.Key, s.store.DeleteSession(s.auditAs(ctx, p, hmisauth.EventLogout, ""), p.Session.ID, true))
}

// LogoutFrom is Logout asked for by an application (OpenID Connect RP-initiated logout).
func (s *Service) LogoutFrom(ctx context.Context, p *Principal, app string) error {
	return s.signedOut(p.Site.Key, s.store.DeleteSession(s.auditAs(ctx, p, hmisauth.EventLogout, "asked by "+app), p.Session.ID, true))
}

// signedOut counts a sign-out that succeeded (err is DeleteSession's) and returns err.
func (s *Service) signedOut(site string, err error) error {
	if err == nil {
		s.metrics.SessionEnded(site, hmisauth.EndedSignedOut, 1)
	}
	return err
}

// RequiredActions lists what the user must do, in CONTRACT order, before their session opens
// anything else.
func RequiredActions(site *hmisauth.Site, u *hmisauth.User, now time.Time) []hmisauth.RequiredAction {
	var out []hmisauth.RequiredAction
	if u.TermsVersion < site.Policy.Terms.Version {
		out = append(out, hmisauth.RequiredAction{Name: hmisauth.ActionAcceptTerms})
	}
	if u.PasswordTemporary {
		out = append(out, hmisauth.RequiredAction{Name: hmisauth.ActionChangePassword, Reason: hmisauth.ReasonTemporary})
	} else if passwordExpired(site, u, now) {
		out = append(out, hmisauth.RequiredAction{Name: hmisauth.ActionChangePassword, Reason: hmisauth.ReasonExpired})
	}
	if site.RequiresSecurityQuestion() && u.RecoveryQuestion == "" {
		out = append(out, hmisauth.RequiredAction{Name: hmisauth.ActionSetupRecovery})
	}
	if MFARequired(site, u) && !u.MFAEnabled {
		out = append(out, hmisauth.RequiredAction{Name: hmisauth.ActionSetupMFA})
	}
	return out
}

// passwordExpiresAt is when the password's age passes the site's max_age_days (zero: never).
func passwordExpiresAt(site *hmisauth.Site, u *hmisauth.User) time.Time {
	days := site.Policy.Password.MaxAgeDays
	if days <= 0 || u.PasswordTemporary {
		return time.Time{}
	}
	return u.PasswordChangedAt.AddDate(0, 0, days)
}

func passwordExpired(site *hmisauth.Site, u *hmisauth.User, now time.Time) bool {
	if u.MustChangePassword {
		return true
	}
	exp := passwordExpiresAt(site, u)
	return !exp.IsZero() && !now.Before(exp)
}

// Discard ends the session of token on the site, if there is one: a browser signing in again
// leaves no older session of its own behind.
func (s *Service) Discard(ctx context.Context, siteKey, token string) error {
	if token == "" || len(token) > 128 {
		return nil
	}
	sess, err := s.store.SessionByToken(ctx, HashToken(token))
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND || (err == nil && sess.Site != siteKey) {
		return nil
	} else if err != nil {
		return err
	}
	return s.signedOut(siteKey, s.store.DeleteSession(ctx, sess.ID, true))
}
