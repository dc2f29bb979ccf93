package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// SessionInfo is one of a user's sessions as their sessions page shows it.
type SessionInfo struct {
	*hmisauth.Session
	Current       bool   // the session asking
	Browser       string // "Chrome on Windows", from the user agent
	IdleExpiresAt time.Time
	// Apps are the applications this session signed in to (single sign-on), by name.
	Apps []string
}

// Sessions lists the signed-in user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	if err := p.Require(""); err != nil {
		return nil, err
	}
	return s.liveSessions(ctx, p.Site, p.User.ID, p.Session)
}

// UserSessions lists the live sessions of a user in scope, newest first, each with the
// applications it signed in to: where the person is signed in right now, for the helpdesk.
func (a *Admin) UserSessions(ctx context.Context, username string) ([]SessionInfo, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.liveSessions(ctx, a.p.Site, u.ID, nil)
}

// liveSessions lists a user's sessions that have not timed out; current is the asking
// session (nil for none), shown as it is now.
func (s *Service) liveSessions(ctx context.Context, site *hmisauth.Site, userID int64, current *hmisauth.Session) ([]SessionInfo, error) {
	all, err := s.store.UserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	apps, err := s.sessionApps(ctx, site, userID)
	if err != nil {
		return nil, err
	}
	now, idle := s.clock.Now(), site.Policy.Session.Idle
	var out []SessionInfo
	for _, sess := range all {
		isCurrent := current != nil && sess.ID == current.ID
		if isCurrent {
			sess = current
		} else if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) {
			continue // timed out, not yet swept
		}
		out = append(out, SessionInfo{Session: sess, Current: isCurrent,
			Browser: BrowserName(sess.UserAgent), IdleExpiresAt: sess.LastSeenAt.Add(idle), Apps: apps[sess.ID]})
	}
	return out, nil
}

// sessionApps names, for each of the user's sessions, the applications it signed in to.
func (s *Service) sessionApps(ctx context.Context, site *hmisauth.Site, userID int64) (map[int64][]string, error) {
	ids, err := s.store.SessionClients(ctx, userID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	clients, err := s.store.Clients(ctx, site.Key)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range clients {
		names[c.ID] = c.Name
	}
	out := map[int64][]string{}
	for sess, list := range ids {
		for _, id := range list {
			if name, ok := names[id]; ok {
				out[sess] = append(out[sess], name)
			}
		}
	}
	return out, nil
}

// Applications lists the site's applications a user can go on to from the account page:
// those with a home address.
func (s *Service) Applications(ctx context.Context, p *Principal) ([]*hmisauth.Client, error) {
	all, err := s.store.Clients(ctx, p.Site.Key)
	if err != nil {
		return nil, err
	}
	var out []*hmisauth.Client
	for _, c := range all {
		if c.HomeURL != "" {
			out = append(out, c)
		}
	}
	return out, nil
}

// EndSession ends one of the signed-in user's sessions (their own current one is a sign-out).
// Another user's session is ENOTFOUND, like one that does not exist.
func (s *Service) EndSession(ctx context.Context, p *Principal, id int64) error {
	if err := p.Require(""); err != nil {
		return err
	}
	if id == p.Session.ID {
		return s.Logout(ctx, p)
	}
	ctx = s.auditAs(ctx, p, hmisauth.EventSessionEnded, "")
	if err := s.store.EndUserSession(ctx, p.User.ID, id, hmisauth.EndedByUser, s.clock.Now()); err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return hmisauth.Errorf(hmisauth.ENOTFOUND, "That session has ended already.")
		}
		return err
	}
	s.metrics.SessionEnded(p.Site.Key, hmisauth.EndedByUser, 1)
	return nil
}

// EndOtherSessions ends every session of the signed-in user but this one.
func (s *Service) EndOtherSessions(ctx context.Context, p *Principal) error {
	if err := p.Require(""); err != nil {
		return err
	}
	ctx = s.auditAs(ctx, p, hmisauth.EventSessionEnded, "all other sessions")
	count := s.countEnded(ctx, p.Site.Key, p.User.ID, p.Session.ID, hmisauth.EndedByUser)
	err := s.store.DeleteUserSessions(ctx, p.User.ID, p.Session.ID, hmisauth.EndedByUser, s.clock.Now())
	count(err)
	return err
}

// EndedError is how Authenticate answers a token whose session something ended before its
// time; Reason is one of hmisauth's Ended* constants, so a page can say what happened.
type EndedError struct {
	Reason string
	err    *hmisauth.Error
}

func (e *EndedError) Error() string { return e.err.Error() }
func (e *EndedError) Unwrap() error { return e.err }

// SessionEndReason is the Ended* reason carried by err, or "".
func SessionEndReason(err error) string {
	var e *EndedError
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// endedError words why a session ended for whoever still holds its token.
func endedError(reason string) error {
	e := &hmisauth.Error{Code: hmisauth.EUnauthorized}
	switch reason {
	case hmisauth.EndedElsewhere:
		e.Code = hmisauth.ESignedInElsewhere
		e.Message = "You were signed out because your account signed in elsewhere. Only one session at a time is allowed. If that was not you, change your password."
	case hmisauth.EndedByUser:
		e.Message = "This session was ended from another of your sessions. Please sign in again."
	case hmisauth.EndedPasswordChanged:
		e.Message = "You were signed out because your password was changed. Sign in with the new password."
	case hmisauth.EndedByHelpdesk:
		e.Message = "The helpdesk signed you out. Please sign in again."
	case hmisauth.EndedLocked:
		e.Message = "You were signed out because of too many failed attempts, and your account is locked."
	case hmisauth.EndedMFAChanged:
		e.Message = "You were signed out because 2-step verification was turned on for your account. Sign in again with your code."
	default:
		e.Message = "Please sign in."
	}
	return &EndedError{Reason: reason, err: e}
}

// BrowserName says in a few words which browser and system a user agent string is, for the
// sessions page ("Edge on Windows"); unknown parts are left out, and "" stays "Unknown browser".
func BrowserName(ua string) string {
	var browser, system string
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"},
		{"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "Mac"}, {"Macintosh", "Mac"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	case ua == "":
		return "Unknown browser"
	}
	return "Another program"
}
