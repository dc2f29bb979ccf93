package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// Single sign-on: the site's OpenID Connect endpoints (oidc.Provider) and the sign-in step
// between an application's authorization request and its code. The application sends the
// browser to /{site}/oidc/authorize; the provider checks the request and sends the browser on
// to /{site}/continue?request=ID, which signs the user in on the site's own pages (and
// through whatever their first sign-in asks) and then sends them back with a code.

// Suffixes of the cookies single sign-on uses (see siteCookie).
const (
	// browserCookie binds authorization requests to the browser that started them: a random
	// value whose hash each request keeps. It lives while the browser is open.
	browserCookie = "_browser"
	// continueCookie holds the authorization request a sign-in is for, so that whatever
	// pages come between (the second step, the terms, a new password) end back at it.
	continueCookie = "_continue"
)

// continueFor is how long the continue cookie lives: as long as an authorization request.
const continueFor = 30 * time.Minute

// oidcEndpoint serves the site's provider: discovery and /{site}/oidc/…. It tells the
// provider which browser is asking (authorize binds the request to it) and who is signed in
// there (end_session may sign them out).
func (s *Server) oidcEndpoint(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	var h http.Handler
	if s.opt.OIDC != nil {
		h = s.opt.OIDC.Handler(site.Key)
	}
	if h == nil {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	switch strings.TrimPrefix(r.URL.Path, "/"+site.Key) {
	case "/oidc/authorize":
		browser := s.cookieValue(r, site, browserCookie)
		if browser == "" || len(browser) > 64 {
			b := make([]byte, 32)
			rand.Read(b)
			browser = base64.RawURLEncoding.EncodeToString(b)
			http.SetCookie(w, &http.Cookie{Name: s.siteCookie(site, browserCookie), Value: browser, Path: "/",
				HttpOnly: true, Secure: s.opt.Secure, SameSite: http.SameSiteLaxMode})
		}
		ctx = oidc.WithBrowser(ctx, browser)
		s.authorize(w, r.WithContext(ctx), site, h)
		return
	case "/oidc/end_session":
		p, ok := s.browserSession(w, r, site)
		if !ok {
			return
		}
		ctx = oidc.WithSession(ctx, p, func() {
			s.clearSession(w, site)
			s.clearCookie(w, site, continueCookie)
		})
	}
	h.ServeHTTP(w, r.WithContext(ctx))
}

// authorize serves an authorization request. A request the library cannot send back to the
// application (an unknown client, a redirect address nobody registered) it answers with a line
// of plain text; a person sees our error page instead, saying the application is not set up
// to sign in here and whom to tell.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, h http.Handler) {
	rec := &bufferedResponse{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status >= 400 && strings.HasPrefix(rec.header.Get("Content-Type"), "text/plain") {
		s.log.InfoContext(r.Context(), "authorization request refused", "site", site.Key, "reason", strings.TrimSpace(rec.body.String()))
		s.errorPage(w, r, site, &httpError{status: rec.status, err: hmisauth.Errorf(hmisauth.EINVALID,
			"The application that sent you here is not set up to sign in through %s (%s). Tell the helpdesk at %s which application it was.",
			site.Name, appProblem(rec.body.String()), site.Helpdesk.Contact())})
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// appProblem words the library's refusal for the error page.
func appProblem(text string) string {
	switch t := strings.ToLower(text); {
	case strings.Contains(t, "redirect_uri"):
		return "its return address is not registered"
	case strings.Contains(t, "client"):
		return "it is not registered"
	}
	return "its request is not valid"
}

// bufferedResponse holds a response until it is known what to send.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// appView is an application as pages name it: the one a sign-in is for (with the origin its
// forms may end at), or one of the account page's.
type appView struct {
	Name   string
	Home   string
	Origin string
}

// appOf is the application of a pending request, nil for none.
func appOf(q *oidc.Request) *appView {
	if q == nil {
		return nil
	}
	return &appView{Name: q.Client.Name, Home: q.Client.HomeURL, Origin: q.ReturnOrigin()}
}

// continueSignIn finishes an application's authorization request in the browser that started
// it: signed in well enough (prompt, max_age, id_token_hint) and with nothing pending, the
// browser goes back to the application with a code; otherwise it signs in (again) or does
// its required actions first, and comes back here after (the continue cookie). A request that
// asked for no page (prompt=none) goes back to the application with an error instead.
func (s *Server) continueSignIn(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	id := r.URL.Query().Get("request")
	if id == "" {
		id = s.cookieValue(r, site, continueCookie)
	}
	if s.opt.OIDC == nil || id == "" {
		redirect(w, r, sitePath(site, "account"))
		return
	}
	q, err := s.opt.OIDC.Request(r.Context(), site.Key, id, s.cookieValue(r, site, browserCookie))
	if err != nil {
		s.clearCookie(w, site, continueCookie)
		s.errorPage(w, r, site, err)
		return
	}
	var p *auth.Principal
	if token := s.cookieToken(r, site); token != "" {
		if p, err = s.svc.Authenticate(r.Context(), site.Key, token); err != nil {
			p = nil
		}
	}
	now := s.clock.Now()
	switch {
	case q.NeedsSignIn(p, now):
		if q.PromptNone() {
			s.clearCookie(w, site, continueCookie)
			s.opt.OIDC.Refuse(w, r, q, zoidc.ErrLoginRequired())
			return
		}
		s.setCookie(w, site, continueCookie, q.ID(), now.Add(continueFor))
		redirect(w, r, sitePath(site, "login")+"?request="+q.ID())
	case p.NextAction() != "":
		if q.PromptNone() {
			s.clearCookie(w, site, continueCookie)
			s.opt.OIDC.Refuse(w, r, q, zoidc.ErrInteractionRequired())
			return
		}
		s.setCookie(w, site, continueCookie, q.ID(), now.Add(continueFor))
		redirect(w, r, nextPage(p))
	default:
		s.clearCookie(w, site, continueCookie)
		s.opt.OIDC.Finish(w, r, q, p)
	}
}

// nextAfterSignIn is where a signed-in user goes now: their first required action, else the
// application whose sign-in they were in (the continue cookie), else their account.
func (s *Server) nextAfterSignIn(r *http.Request, p *auth.Principal) string {
	next := nextPage(p)
	if next == sitePath(p.Site, "account") && s.cookieValue(r, p.Site, continueCookie) != "" {
		return sitePath(p.Site, "continue")
	}
	return next
}

// nextStep sends a signed-in user on (the link at the end of a page that had no form of its
// own, like the recovery codes').
func (s *Server) nextStep(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	p := s.signedIn(w, r, site)
	if p == nil {
		return
	}
	redirect(w, r, s.nextAfterSignIn(r, p))
}

// pendingRequest is the authorization request the browser is signing in for: the page's
// ?request=, else the continue cookie's, if it is live in this browser; nil otherwise.
func (s *Server) pendingRequest(r *http.Request, site *hmisauth.Site) *oidc.Request {
	if site == nil || s.opt.OIDC == nil {
		return nil
	}
	id := r.URL.Query().Get("request")
	if id == "" {
		id = s.cookieValue(r, site, continueCookie)
	}
	if id == "" {
		return nil
	}
	q, err := s.opt.OIDC.Request(r.Context(), site.Key, id, s.cookieValue(r, site, browserCookie))
	if err != nil {
		return nil
	}
	return q
}

// logoutConfirmPage asks before signing out: an application sent the browser to end_session
// without saying whose session it means (no id_token_hint), which any web page could do.
func (s *Server) logoutConfirmPage(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	p, ok := s.browserSession(w, r, site)
	if !ok {
		return
	}
	if p == nil {
		if s.cookieToken(r, site) != "" {
			s.clearSession(w, site) // a session that was refused
		}
		redirect(w, r, sitePath(site, "login")+"?notice=signed_out")
		return
	}
	v := s.newView(r, site)
	v.Principal = p
	s.render(w, r, http.StatusOK, "logout", v)
}
