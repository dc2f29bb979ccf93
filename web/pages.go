package web

import (
	"net/http"
	"slices"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// parseForm reads a posted form within maxBody. It answers a broken form itself and reports
// false.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, site *hmisauth.Site) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, site, &httpError{status: http.StatusBadRequest, err: hmisauth.Errorf(hmisauth.EINVALID,
			"The form could not be read. Go back, reload the page and try again.")})
		return false
	}
	return true
}

// loginPage shows the sign-in form; someone already signed in goes on to where they were.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	q := s.pendingRequest(r, site)
	p, ok := s.browserSession(w, r, site)
	switch {
	case !ok:
		return
	case p != nil:
		// Someone signed in goes on, unless an application asks them to sign in again
		// (prompt=login, max_age): then the form is shown all the same.
		if q == nil || !q.NeedsSignIn(p, s.clock.Now()) {
			redirect(w, r, s.nextAfterSignIn(r, p))
			return
		}
	case s.cookieToken(r, site) != "":
		s.clearSession(w, site) // a session that was refused
	}
	v := s.loginView(r, site, q)
	if q != nil {
		v.Username = q.LoginHint()
	}
	s.render(w, r, http.StatusOK, "login", v)
}

// loginView is the sign-in form; when the browser is signing in for an application (q, not
// nil), it names the application.
func (s *Server) loginView(r *http.Request, site *hmisauth.Site, q *oidc.Request) *view {
	v := s.newView(r, site)
	v.fields = []string{"username", "password"}
	v.App = appOf(q)
	return v
}

// loginRequired are the sign-in form's fields: an empty form has both flagged, not only the
// first.
var loginRequired = []required{{"username", "Enter your username."}, {"password", "Enter your password."}}

// signInView is what a refused sign-in adds to its answer (login.html words it).
type signInView struct {
	// AttemptsLeft is how many more failures the username typed allows before it locks (auth
	// counts it for every username alike, so it tells nobody whether the account exists).
	AttemptsLeft int
	// Locked is the answer once it has locked; AutoUnlock is the site's automatic unlock in
	// words ("30 minutes"), "" when only the helpdesk unlocks.
	Locked     bool
	AutoUnlock string
}

// newSignInView reads what a refused sign-in (err) says about the lockout, or nil.
func newSignInView(site *hmisauth.Site, err error) *signInView {
	e := hmisauth.AsError(err)
	switch {
	case e == nil:
		return nil
	case e.Code == hmisauth.EAccountLocked:
		v := &signInView{Locked: true}
		if d := site.Policy.Lockout.AutoUnlockAfter; d > 0 {
			v.AutoUnlock = duration(d)
		}
		return v
	case e.AttemptsLeft > 0:
		return &signInView{AttemptsLeft: e.AttemptsLeft}
	}
	return nil
}

// loginSubmit signs in and sends the user to their first required action. A refusal keeps
// the username typed, for the form and for the "Reset your password instead" link.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok || !s.parseForm(w, r, site) {
		return
	}
	username := r.PostFormValue("username")
	v := s.loginView(r, site, s.pendingRequest(r, site))
	v.Username = username
	if s.requireFields(w, r, "login", v, loginRequired) {
		return
	}
	res, err := s.svc.Login(r.Context(), auth.LoginRequest{
		Site: site.Key, Username: username, Password: r.PostFormValue("password"),
		ClientAddr: s.clientAddr(r), UserAgent: r.UserAgent(),
		DeviceToken: s.cookieValue(r, site, deviceCookie), SecondStep: true,
	})
	if err != nil {
		s.formError(w, r, "login", v, err, func(v *view) { v.SignIn = newSignInView(site, err) })
		return
	}
	s.signedInHere(w, r, site, res)
}

// requireFields shows a form again (400) with every required field left empty flagged at
// once, before anything is asked of the rules, and reports whether it did. v is the page as
// the user filled it.
func (s *Server) requireFields(w http.ResponseWriter, r *http.Request, page string, v *view, fields []required) bool {
	if !v.missing(r, fields...) {
		return false
	}
	s.render(w, r, http.StatusBadRequest, page, v)
	return true
}

// signedInHere hands the browser what a sign-in step gave it: a new session (ending whatever
// session the browser held before, so no token outlives a sign-in), or the cookie of a sign-in
// waiting for its second step, and sends it on.
func (s *Server) signedInHere(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, res *auth.LoginResult) {
	if old := s.cookieToken(r, site); old != "" {
		if err := s.svc.Discard(r.Context(), site.Key, old); err != nil {
			s.log.WarnContext(r.Context(), "ending the previous session failed", "err", err)
		}
	}
	if c := res.Challenge; c != nil {
		s.clearSession(w, site)
		s.setCookie(w, site, loginCookie, c.Token, c.ExpiresAt)
		redirect(w, r, sitePath(site, "login/verify"))
		return
	}
	if s.cookieValue(r, site, loginCookie) != "" {
		s.clearCookie(w, site, loginCookie)
	}
	if res.DeviceToken != "" {
		s.setCookie(w, site, deviceCookie, res.DeviceToken, res.DeviceExpiresAt)
	}
	s.setSession(w, site, res.Token)
	next := s.nextAfterSignIn(r, res.Principal)
	if res.RecoveryCodeUsed && next == sitePath(site, "account") {
		next = sitePath(site, "account/security?notice=recovery_code_used")
	}
	redirect(w, r, next)
}

// logoutSubmit ends the session (if it is still alive) and forgets the cookie.
func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	p, ok := s.browserSession(w, r, site)
	if !ok {
		return
	}
	if p != nil {
		if err := s.svc.Logout(r.Context(), p); err != nil {
			s.errorPage(w, r, site, err)
			return
		}
	}
	s.clearSession(w, site)
	redirect(w, r, sitePath(site, "login")+"?notice=signed_out")
}

// formError shows a refused form again with the error on it. Errors that belong elsewhere
// are handled here too: a session that ended goes to sign in, a pending required action to
// its page, closed security settings to the password prompt, anything that is not an application error to "Internal error.".
func (s *Server) formError(w http.ResponseWriter, r *http.Request, page string, v *view, err error, fill func(*view)) {
	switch hmisauth.ErrorCode(err) {
	case hmisauth.EUnauthorized, hmisauth.ESessionExpired:
		s.signedOut(w, r, v.Site, err)
		return
	case hmisauth.EActionRequired:
		if v.Principal != nil {
			redirect(w, r, nextPage(v.Principal))
			return
		}
	case hmisauth.ERateLimited:
		// Nothing on the form can help until the limit lifts: a page of its own says when.
		s.errorPage(w, r, v.Site, err)
		return
	case hmisauth.EReauthRequired:
		// A page that asks for the password itself shows it as that field's error.
		if e := hmisauth.AsError(err); v.Site != nil && !slices.Contains(v.fields, e.Field) {
			redirect(w, r, sitePath(v.Site, "account/security?notice=reauth"))
			return
		}
	}
	status, e := s.status(r, err)
	if e == nil {
		s.internalError(w, r)
		return
	}
	v.setError(e)
	if fill != nil {
		fill(v)
	}
	setErrorHeaders(w, e)
	s.render(w, r, status, page, v)
}
