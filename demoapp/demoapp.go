package demoapp

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Options configure the demo application.
type Options struct {
	// Issuer is the hmisauth site it signs in through: {public_url}/{site}.
	Issuer string
	// SiteName is the site as its users know it ("HMIS Live"), for the sign-in button.
	SiteName     string
	ClientID     string
	ClientSecret string
	// BaseURL is where browsers reach the application (http://localhost:8090). Its
	// callback (/callback), post-logout (/) and back-channel (/backchannel) addresses are
	// under it, as they were registered.
	BaseURL string
	// HTTPClient talks to hmisauth; nil: one with a 10-second timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
}

const (
	// The cookies have names of their own: cookies do not tell ports apart, so the demo on
	// localhost:8090 and hmisauth on localhost:8080 share a cookie jar.
	sessionCookie = "demo_hmis_session"
	loginCookie   = "demo_hmis_login" // the state of the sign-in under way in this browser
	loginFor      = 10 * time.Minute
	sessionLife   = 12 * time.Hour
	maxPending    = 1000
	// signedOutState comes back from end_session with the browser, to say it signed out.
	signedOutState = "signed-out"
)

// scopes are what the application asks for: everything but offline_access, which a
// sign-in-and-show application has no use for.
var scopes = []string{gooidc.ScopeOpenID, "profile", "email", "phone", "hmis"}

//go:embed page.html style.css
var files embed.FS

var page = template.Must(template.ParseFS(files, "page.html"))

type app struct {
	opt    Options
	base   *url.URL
	issuer *url.URL
	client *http.Client
	log    *slog.Logger

	discover sync.Mutex
	rp       *relyingParty // nil until discovery succeeds

	mu       sync.Mutex
	pending  map[string]pending  // sign-ins under way, by state
	sessions map[string]*session // by session cookie
}

// relyingParty is what discovery told the application about the site.
type relyingParty struct {
	provider   *gooidc.Provider
	verifier   *gooidc.IDTokenVerifier
	conf       *oauth2.Config
	endSession string
}

type pending struct {
	nonce, verifier string
	started         time.Time
}

// session is one browser signed in to the application.
type session struct {
	started    time.Time
	rawIDToken string // the id_token_hint of the sign-out
	sub, sid   string
	idClaims   map[string]any
	userinfo   map[string]any
	// ended says why hmisauth ended the session (a back-channel logout): shown once, on the
	// browser's next visit.
	ended string
}

// New returns the demo application. It asks the site for its discovery document on first
// use, not here: hmisauth may not be listening yet.
func New(opt Options) http.Handler {
	base, err := url.Parse(strings.TrimSuffix(opt.BaseURL, "/"))
	if err != nil {
		panic("demoapp: BaseURL: " + err.Error())
	}
	issuer, err := url.Parse(opt.Issuer)
	if err != nil {
		panic("demoapp: Issuer: " + err.Error())
	}
	a := &app{opt: opt, base: base, issuer: issuer, client: opt.HTTPClient, log: opt.Log,
		pending: map[string]pending{}, sessions: map[string]*session{}}
	if a.client == nil {
		a.client = &http.Client{Timeout: 10 * time.Second}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /backchannel", a.backchannel)
	mux.Handle("GET /style.css", http.FileServerFS(files))
	// Browsers' cross-origin POSTs are refused; hmisauth's back-channel POST carries neither
	// Sec-Fetch-Site nor Origin, like any server-to-server request, and passes.
	return a.headers(http.NewCrossOriginProtection().Handler(mux))
}

// headers keeps every page on the registered address (a sign-in started at 127.0.0.1 would
// lose its state cookie on the way back to localhost) and sets a strict content policy: no
// script at all, styles from the one file, forms only here and to the site (sign-out's
// redirect to end_session).
func (a *app) headers(next http.Handler) http.Handler {
	csp := "default-src 'none'; style-src 'self'; form-action 'self' " + a.issuer.Scheme + "://" + a.issuer.Host +
		"; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != a.base.Host && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, a.base.String()+r.URL.RequestURI(), http.StatusFound)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// relyingParty discovers the site once; a failure is tried again on the next request.
func (a *app) relyingParty(ctx context.Context) (*relyingParty, error) {
	a.discover.Lock()
	defer a.discover.Unlock()
	if a.rp != nil {
		return a.rp, nil
	}
	p, err := gooidc.NewProvider(a.outbound(context.WithoutCancel(ctx)), a.opt.Issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, err
	}
	a.rp = &relyingParty{provider: p, endSession: meta.EndSession,
		verifier: p.Verifier(&gooidc.Config{ClientID: a.opt.ClientID}),
		conf: &oauth2.Config{ClientID: a.opt.ClientID, ClientSecret: a.opt.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: a.base.String() + "/callback", Scopes: scopes}}
	return a.rp, nil
}

// outbound makes go-oidc and x/oauth2 use the application's HTTP client.
func (a *app) outbound(ctx context.Context) context.Context {
	return gooidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, a.client), a.client)
}

// home shows who is signed in, or the sign-in button.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	key, s := a.session(r)
	v := &view{SiteName: a.opt.SiteName}
	switch {
	case s == nil:
		if r.URL.Query().Get("state") == signedOutState {
			v.Notice = "You are signed out of this app and of " + a.opt.SiteName + "."
		}
	case s.ended != "":
		a.endSession(w, key)
		v.Notice = s.ended
	default:
		v.Person, v.IDToken, v.UserInfo = personOf(s), claimList(s.idClaims), claimList(s.userinfo)
	}
	a.render(w, http.StatusOK, v)
}

// login starts a sign-in: a new state (also kept in a cookie, so only this browser can finish
// it), nonce and PKCE verifier.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	rp, err := a.relyingParty(r.Context())
	if err != nil {
		a.fail(w, http.StatusBadGateway, a.opt.SiteName+" is not answering at "+a.opt.Issuer+
			" ("+err.Error()+"). Is hmisauth running? Try again in a moment.")
		return
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	now := time.Now()
	a.mu.Lock()
	a.prune(now)
	full := len(a.pending) >= maxPending
	if !full {
		a.pending[state] = pending{nonce: nonce, verifier: verifier, started: now}
	}
	a.mu.Unlock()
	if full {
		a.fail(w, http.StatusServiceUnavailable, "Too many sign-ins are under way. Try again in a few minutes.")
		return
	}
	http.SetCookie(w, a.cookie(loginCookie, state, int(loginFor/time.Second)))
	http.Redirect(w, r, rp.conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// callback is the redirect URI: the state must be this browser's, the code is redeemed with
// the PKCE verifier, the ID token verified (signature, issuer, audience, expiry, nonce,
// at_hash) and the userinfo endpoint asked.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	http.SetCookie(w, a.cookie(loginCookie, "", -1))
	a.mu.Lock()
	p, ok := a.pending[state]
	delete(a.pending, state)
	a.mu.Unlock()
	if e := q.Get("error"); e != "" {
		a.fail(w, http.StatusBadRequest, a.opt.SiteName+" did not sign you in: "+strings.TrimSpace(e+" "+q.Get("error_description")))
		return
	}
	if c, err := r.Cookie(loginCookie); !ok || err != nil || c.Value != state || time.Since(p.started) > loginFor {
		a.fail(w, http.StatusBadRequest, "This sign-in was started in another window or too long ago. Start again.")
		return
	}
	rp, err := a.relyingParty(r.Context())
	if err != nil {
		a.fail(w, http.StatusBadGateway, a.opt.SiteName+" is not answering: "+err.Error())
		return
	}
	s, err := a.redeem(a.outbound(r.Context()), rp, q.Get("code"), p)
	if err != nil {
		a.log.WarnContext(r.Context(), "demo app: sign-in failed", "err", err)
		a.fail(w, http.StatusBadGateway, "The sign-in could not be checked: "+err.Error())
		return
	}
	key := random()
	a.mu.Lock()
	if old, err := r.Cookie(sessionCookie); err == nil {
		delete(a.sessions, old.Value)
	}
	a.sessions[key] = s
	a.mu.Unlock()
	a.log.InfoContext(r.Context(), "demo app: signed in", "sub", s.sub, "sid", s.sid)
	http.SetCookie(w, a.cookie(sessionCookie, key, 0))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) redeem(ctx context.Context, rp *relyingParty, code string, p pending) (*session, error) {
	tok, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if id.Nonce != p.nonce {
		return nil, errors.New("the ID token's nonce is not this sign-in's")
	}
	if id.AccessTokenHash != "" {
		if err := id.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, err
		}
	}
	s := &session{started: time.Now(), rawIDToken: raw, sub: id.Subject, idClaims: map[string]any{}, userinfo: map[string]any{}}
	if err := id.Claims(&s.idClaims); err != nil {
		return nil, err
	}
	s.sid, _ = s.idClaims["sid"].(string)
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, err
	}
	if info.Subject != id.Subject {
		return nil, errors.New("the userinfo answer is about someone else")
	}
	return s, info.Claims(&s.userinfo)
}

// logout ends the application's session and sends the browser to the site's end_session
// with the ID token, which ends the site's session and comes back to the start page.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	key, s := a.session(r)
	a.endSession(w, key)
	rp, err := a.relyingParty(r.Context())
	if s == nil || s.ended != "" || err != nil || rp.endSession == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.log.InfoContext(r.Context(), "demo app: signed out", "sub", s.sub, "sid", s.sid)
	http.Redirect(w, r, rp.endSession+"?"+url.Values{"id_token_hint": {s.rawIDToken},
		"post_logout_redirect_uri": {a.base.String() + "/"}, "state": {signedOutState}}.Encode(), http.StatusSeeOther)
}

// backchannel receives hmisauth's logout tokens (a session ended there: signed out, ended
// by the helpdesk, a password change…) and ends the application's sessions they name.
func (a *app) backchannel(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	rp, err := a.relyingParty(r.Context())
	if err != nil {
		http.Error(w, "the provider is not answering", http.StatusServiceUnavailable)
		return
	}
	lt, err := rp.verifier.VerifyLogout(a.outbound(r.Context()), r.PostFormValue("logout_token"))
	if err != nil {
		a.log.WarnContext(r.Context(), "demo app: logout token refused", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	ended := 0
	a.mu.Lock()
	for _, s := range a.sessions {
		if s.ended == "" && (lt.SessionID == "" || s.sid == lt.SessionID) && (lt.Subject == "" || s.sub == lt.Subject) {
			s.ended = a.opt.SiteName + " ended your session (you signed out there, or the helpdesk ended it), " +
				"so you are signed out of this app too."
			ended++
		}
	}
	a.mu.Unlock()
	a.log.InfoContext(r.Context(), "demo app: back-channel logout", "sub", lt.Subject, "sid", lt.SessionID, "sessions_ended", ended)
}

// session is the browser's session, if it has one.
func (a *app) session(r *http.Request) (string, *session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[c.Value]
	if s == nil || time.Since(s.started) > sessionLife {
		return "", nil
	}
	return c.Value, s
}

func (a *app) endSession(w http.ResponseWriter, key string) {
	a.mu.Lock()
	delete(a.sessions, key)
	a.mu.Unlock()
	http.SetCookie(w, a.cookie(sessionCookie, "", -1))
}

// prune forgets sign-ins never finished and sessions past their life; a.mu is held.
func (a *app) prune(now time.Time) {
	for k, p := range a.pending {
		if now.Sub(p.started) > loginFor {
			delete(a.pending, k)
		}
	}
	for k, s := range a.sessions {
		if now.Sub(s.started) > sessionLife {
			delete(a.sessions, k)
		}
	}
}

func (a *app) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: a.base.Scheme == "https", SameSite: http.SameSiteLaxMode}
}

func (a *app) fail(w http.ResponseWriter, status int, problem string) {
	a.render(w, status, &view{SiteName: a.opt.SiteName, Problem: problem})
}

func (a *app) render(w http.ResponseWriter, status int, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		a.log.Error("demo app: page", "err", err)
	}
}

// random is a 128-bit random value for states, nonces and session cookies.
func random() string { return rand.Text() }
