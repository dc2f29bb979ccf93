package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// cookieName is the session cookie of a site: one per site, since a session on one site means
// nothing on another. Behind https it takes the __Host- prefix, which browsers only accept
// from a secure origin with Path=/ and no Domain, so no other host can plant or share it.
func (s *Server) cookieName(site *hmisauth.Site) string { return s.siteCookie(site, "") }

// siteCookie is the name of one of a site's cookies: the session's (suffix ""), the sign-in
// waiting for its second step ("_login") or the remembered device ("_device").
func (s *Server) siteCookie(site *hmisauth.Site, suffix string) string {
	name := "hmisauth_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, site.Key) + suffix
	if s.opt.Secure {
		return "__Host-" + name
	}
	return name
}

// setSession hands the browser its session token. The cookie carries no Max-Age or Expires,
// so it lives at most until the browser closes, never beyond the session's absolute lifetime
// (after which the server refuses it anyway): on a shared shelter computer, closing the
// browser forgets the sign-in.
func (s *Server) setSession(w http.ResponseWriter, site *hmisauth.Site, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(site), Value: token, Path: "/",
		HttpOnly: true, Secure: s.opt.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// clearSession tells the browser to forget the site's session cookie.
func (s *Server) clearSession(w http.ResponseWriter, site *hmisauth.Site) { s.clearCookie(w, site, "") }

// setCookie sets one of the site's cookies (see siteCookie) until expires (by the server's
// clock, which set expires): HttpOnly, Secure behind https, and sent with top-level
// navigation only (SameSite Lax).
func (s *Server) setCookie(w http.ResponseWriter, site *hmisauth.Site, suffix, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: s.siteCookie(site, suffix), Value: value, Path: "/",
		MaxAge:   max(1, int(expires.Sub(s.clock.Now()).Seconds())),
		HttpOnly: true, Secure: s.opt.Secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter, site *hmisauth.Site, suffix string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.siteCookie(site, suffix), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.opt.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// cookieToken is the site's session token from the request's cookie, or "".
func (s *Server) cookieToken(r *http.Request, site *hmisauth.Site) string {
	return s.cookieValue(r, site, "")
}

func (s *Server) cookieValue(r *http.Request, site *hmisauth.Site, suffix string) string {
	c, err := r.Cookie(s.siteCookie(site, suffix))
	if err != nil {
		return ""
	}
	return c.Value
}

// Suffixes of the site cookies besides the session's.
const (
	loginCookie  = "_login"  // a sign-in waiting for its second step
	deviceCookie = "_device" // a remembered device
)

// bearerToken is the token of an "Authorization: Bearer TOKEN" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Notices a page may show after a redirect, by key (?notice=KEY); templates word them. Only
// these keys are shown, so a crafted link cannot put its own text on our pages.
var notices = map[string]bool{
	"signin":           true, // visited a signed-in page while signed out
	"timeout":          true, // the session cookie was no longer accepted
	"signed_out":       true,
	"password_changed": true,
	"password_reset":   true, // after a reset through an e-mailed link: sign in with the new password
	"contact_saved":    true,
	"contact_notified": true, // contact saved, and the old e-mail address was told of the change
	"recovery_saved":   true,
	// Why a session ended early ("ended_" + auth.SessionEndReason), on the sign-in page.
	"ended_" + hmisauth.EndedElsewhere:       true,
	"ended_" + hmisauth.EndedByUser:          true,
	"ended_" + hmisauth.EndedPasswordChanged: true,
	"ended_" + hmisauth.EndedByHelpdesk:      true,
	"ended_" + hmisauth.EndedLocked:          true,
	"ended_" + hmisauth.EndedMFAChanged:      true,
	"code_timeout":                           true, // the second step waited too long
	// Security settings and sessions.
	"reauth":             true, // the security settings closed: type the password again
	"totp_off":           true,
	"passkey_added":      true,
	"passkey_removed":    true,
	"recovery_code_used": true,
	"session_ended":      true,
	"sessions_ended":     true,
}

// signedIn returns the principal of a page request. Signed-out visitors are sent to the
// sign-in page with a notice, and nil is returned: the caller just returns.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, site *hmisauth.Site) *auth.Principal {
	token := s.cookieToken(r, site)
	if token == "" {
		redirect(w, r, sitePath(site, "login")+"?notice=signin")
		return nil
	}
	p, err := s.svc.Authenticate(r.Context(), site.Key, token)
	if err != nil {
		s.signedOut(w, r, site, err)
		return nil
	}
	return p
}

// browserSession is the principal of the browser's session on site, for a page that serves
// the signed-in and the signed-out alike: nil when there is no session cookie or its session
// was refused. A database that does not answer is neither: the session may well be alive, so
// the error page is shown with the cookie kept (looking signed out would leave the session,
// and the applications signed in with it, alive and unseen), and ok is false: the caller just
// returns.
func (s *Server) browserSession(w http.ResponseWriter, r *http.Request, site *hmisauth.Site) (p *auth.Principal, ok bool) {
	token := s.cookieToken(r, site)
	if token == "" {
		return nil, true
	}
	p, err := s.svc.Authenticate(r.Context(), site.Key, token)
	if hmisauth.ErrorCode(err) == hmisauth.EUnavailable {
		s.errorPage(w, r, site, err)
		return nil, false
	}
	return p, true
}

// signedOut handles a page whose session was refused: it goes back to sign in with the cookie
// cleared, saying it timed out when it did, and otherwise just asking to sign in (a session
// ended by the helpdesk, a password change elsewhere or a sign-out in another tab).
func (s *Server) signedOut(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, err error) {
	notice := "signin"
	switch hmisauth.ErrorCode(err) {
	case hmisauth.ESessionExpired:
		notice = "timeout"
	case hmisauth.EUnauthorized, hmisauth.ESignedInElsewhere:
		if reason := auth.SessionEndReason(err); reason != "" {
			notice = "ended_" + reason
		}
	default:
		s.errorPage(w, r, site, err)
		return
	}
	s.clearSession(w, site)
	redirect(w, r, sitePath(site, "login")+"?notice="+notice)
}

// actionPages are the pages where each required action is done.
var actionPages = map[string]string{
	hmisauth.ActionAcceptTerms:    "terms",
	hmisauth.ActionChangePassword: "password",
	hmisauth.ActionSetupRecovery:  "account/recovery",
	hmisauth.ActionSetupMFA:       "account/security/totp",
}

// nextPage is where a signed-in user goes now: their first required action, else the account.
func nextPage(p *auth.Principal) string {
	if page, ok := actionPages[p.NextAction()]; ok {
		return sitePath(p.Site, page)
	}
	return sitePath(p.Site, "account")
}

// signedInPage returns the principal for a signed-in page of the request's site, or nil when
// it has answered already: sign in first, or go to the required action still pending.
func (s *Server) signedInPage(w http.ResponseWriter, r *http.Request, page string) *auth.Principal {
	site, ok := s.site(w, r)
	if !ok {
		return nil
	}
	p := s.signedIn(w, r, site)
	if p == nil || pendingElsewhere(w, r, p, page) {
		return nil
	}
	return p
}

// signedInForm parses a signed-in page's form and returns its principal, or nil when it has
// answered already (a refused form, or sign in first).
func (s *Server) signedInForm(w http.ResponseWriter, r *http.Request) *auth.Principal {
	site, ok := s.site(w, r)
	if !ok || !s.parseForm(w, r, site) {
		return nil
	}
	return s.signedIn(w, r, site)
}

// pendingElsewhere sends the user to their first required action's page when it is not the
// page they are on, and reports whether it did. A session with an action pending opens
// nothing else.
func pendingElsewhere(w http.ResponseWriter, r *http.Request, p *auth.Principal, here string) bool {
	page, ok := actionPages[p.NextAction()]
	if !ok || page == here {
		return false
	}
	redirect(w, r, sitePath(p.Site, page))
	return true
}
