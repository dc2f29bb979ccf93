package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/oidc"
)

// relyingParty is an application that signs its users in through a site with libraries
// nobody here wrote: go-oidc verifies the ID tokens against the published keys and
// golang.org/x/oauth2 speaks the code flow with PKCE. It runs on its own loopback server with
// a callback, a post-logout page and a back-channel logout endpoint.
type relyingParty struct {
	t        *testing.T
	e        *env
	site     string
	srv      *httptest.Server
	client   *hmisauth.Client
	secret   string
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	conf     *oauth2.Config

	mu       sync.Mutex
	pending  map[string]pendingLogin // by state
	results  []*signIn
	logouts  []*gooidc.LogoutToken
	failures []string
	// backchannelDown makes the back-channel endpoint answer 503.
	backchannelDown bool
	// onBackchannel, when set, runs as a logout token arrives, before it is answered.
	onBackchannel func()
}

type pendingLogin struct {
	verifier string
	nonce    string
}

// signIn is what the application got from one sign-in.
type signIn struct {
	token   *oauth2.Token
	rawID   string
	idToken *gooidc.IDToken
	claims  map[string]any
}

// realTime moves the env's clock to the real time: the library stamps ID tokens with the
// system clock, and go-oidc checks them against it.
func (e *env) realTime() {
	e.clock.Advance(time.Since(e.clock.Now()))
}

// newRelyingParty registers an application on site (confidential unless public) and sets up
// go-oidc against the site's discovery document.
func newRelyingParty(t *testing.T, e *env, site string, configure ...func(*oidc.ClientSpec)) *relyingParty {
	t.Helper()
	rp := &relyingParty{t: t, e: e, site: site, pending: map[string]pendingLogin{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", rp.callback)
	mux.HandleFunc("GET /signed-out", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("signed out of the app")) })
	mux.HandleFunc("POST /backchannel", rp.backchannel)
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	spec := oidc.ClientSpec{Name: "Test HMIS", HomeURL: rp.srv.URL + "/",
		RedirectURIs:           []string{rp.srv.URL + "/callback"},
		PostLogoutRedirectURIs: []string{rp.srv.URL + "/signed-out"},
		BackchannelLogoutURI:   rp.srv.URL + "/backchannel"}
	for _, f := range configure {
		f(&spec)
	}
	c, secret, err := e.oidc.AddClient(setupCtx(), site, spec)
	if err != nil {
		t.Fatal(err)
	}
	rp.client, rp.secret = c, secret
	ctx := context.Background()
	rp.provider, err = gooidc.NewProvider(ctx, e.srv.URL+"/"+site)
	if err != nil {
		t.Fatal(err)
	}
	rp.verifier = rp.provider.Verifier(&gooidc.Config{ClientID: c.ID})
	rp.conf = &oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: rp.provider.Endpoint(),
		RedirectURL: rp.srv.URL + "/callback",
		Scopes:      []string{gooidc.ScopeOpenID, "profile", "email", "phone", "hmis", gooidc.ScopeOfflineAccess}}
	return rp
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authURL starts a sign-in as the application does: a new state, nonce and PKCE verifier.
func (rp *relyingParty) authURL(opts ...oauth2.AuthCodeOption) string {
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	rp.mu.Lock()
	rp.pending[state] = pendingLogin{verifier: verifier, nonce: nonce}
	rp.mu.Unlock()
	opts = append(opts, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return rp.conf.AuthCodeURL(state, opts...)
}

// callback is the application's redirect URI: it redeems the code and checks the ID token
// (signature through the JWKS, issuer, audience, expiry, nonce).
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	fail := func(msg string) {
		rp.mu.Lock()
		rp.failures = append(rp.failures, msg)
		rp.mu.Unlock()
		http.Error(w, msg, http.StatusBadRequest)
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		fail("error=" + e)
		return
	}
	rp.mu.Lock()
	p, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok {
		fail("unknown state")
		return
	}
	tok, err := rp.conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		fail("exchange: " + err.Error())
		return
	}
	s, err := rp.verify(r.Context(), tok)
	if err != nil {
		fail(err.Error())
		return
	}
	if s.idToken.Nonce != p.nonce {
		fail("nonce mismatch")
		return
	}
	rp.mu.Lock()
	rp.results = append(rp.results, s)
	rp.mu.Unlock()
	w.Write([]byte("signed in to the app"))
}

func (rp *relyingParty) verify(ctx context.Context, tok *oauth2.Token) (*signIn, error) {
	raw, _ := tok.Extra("id_token").(string)
	id, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	if err := id.Claims(&claims); err != nil {
		return nil, err
	}
	return &signIn{token: tok, rawID: raw, idToken: id, claims: claims}, nil
}

// backchannel receives logout tokens and checks them with go-oidc.
func (rp *relyingParty) backchannel(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	hook := rp.onBackchannel
	rp.mu.Unlock()
	if hook != nil {
		hook()
	}
	rp.mu.Lock()
	down := rp.backchannelDown
	rp.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	lt, err := rp.verifier.VerifyLogout(r.Context(), r.PostFormValue("logout_token"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		rp.mu.Lock()
		rp.failures = append(rp.failures, "logout token: "+err.Error())
		rp.mu.Unlock()
		return
	}
	rp.mu.Lock()
	rp.logouts = append(rp.logouts, lt)
	rp.mu.Unlock()
}

// lastSignIn is the newest sign-in the application completed; the test fails if there is none
// or the application recorded a failure.
func (rp *relyingParty) lastSignIn() *signIn {
	rp.t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.failures) > 0 {
		rp.t.Fatalf("the application failed: %v", rp.failures)
	}
	if len(rp.results) == 0 {
		rp.t.Fatal("the application completed no sign-in")
	}
	return rp.results[len(rp.results)-1]
}

// browser is a user agent for single sign-on: it keeps cookies for the site and the
// application and follows redirects between them.
func (e *env) ssoBrowser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, c: &http.Client{Jar: jar}}
}

// open follows an absolute URL (the application's authorization link) as a browser would.
func (b *browser) open(rawURL string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.e.do(b.c, req)
}

// signInFor answers the sign-in page the browser was sent to by an application, with the
// request it is for.
func (b *browser) signInFor(r *response, username, pw string) *response {
	b.e.t.Helper()
	if !strings.HasSuffix(r.URL.Path, "/login") {
		b.e.t.Fatalf("expected the sign-in page, got %s (%d): %.300s", r.URL, r.Status, r.Body)
	}
	site := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	return b.post("/"+site+"/login", url.Values{"username": {username}, "password": {pw}})
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
