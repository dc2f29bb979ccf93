package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// The whole code flow with a real relying party: the application sends the browser here, the
// user signs in on the site's page, the application gets a code, redeems it with PKCE and
// checks the ID token with the published keys; userinfo answers the same claims.
func TestAnApplicationSignsItsUserInThroughTheSite(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	agency := e.makeAgency("live", "North Shelter", 0)
	c := e.makeUser("live", "Jane", "Doe", "jane@north.example.org", "agency_admin", agency.Name)
	username := c.User.Username
	token := e.login("live", username, c.TemporaryPassword)
	e.expect(e.api("POST", "live", "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", "live", "/me/password", token, map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")
	rp := newRelyingParty(t, e, "live")

	b := e.ssoBrowser()
	r := b.open(rp.authURL())
	r.wantText("Sign in to continue to <strong>Test HMIS</strong>")
	// Browsers apply form-action to the redirects after a form: the sign-in form must be
	// allowed to end at the application.
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+rp.srv.URL+";") {
		t.Errorf("the sign-in page's policy does not let its form end at the application: %s", csp)
	}
	r = b.signInFor(r, username, goodPassword)
	if r.URL.Host != strings.TrimPrefix(rp.srv.URL, "http://") || r.Status != http.StatusOK {
		t.Fatalf("after signing in the browser is at %s (%d): %s", r.URL, r.Status, r.Body)
	}
	s := rp.lastSignIn()
	cl := s.claims
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sub": u.Subject, "preferred_username": username, "name": "Jane Doe", "given_name": "Jane",
		"family_name": "Doe", "email": "jane@north.example.org", "email_verified": false, "hmis_site": "live",
		"hmis_role": "agency_admin", "acr": "pwd", "iss": e.srv.URL + "/live"}
	for k, v := range want {
		if cl[k] != v {
			t.Errorf("ID token claim %s = %v, want %v", k, cl[k], v)
		}
	}
	if u.Subject == "" || u.Subject == username || cl["sid"] == nil || cl["auth_time"] == nil {
		t.Errorf("sub %q, sid %v, auth_time %v", u.Subject, cl["sid"], cl["auth_time"])
	}
	if ag, _ := cl["hmis_agency"].(map[string]any); ag["name"] != "North Shelter" || ag["id"] != float64(agency.ID) {
		t.Errorf("hmis_agency = %v", cl["hmis_agency"])
	}
	if amr, _ := cl["amr"].([]any); !slices.Equal(amr, []any{"pwd"}) {
		t.Errorf("amr = %v", cl["amr"])
	}
	if s.token.RefreshToken == "" {
		t.Error("offline_access was asked for, but no refresh token came")
	}
	// The account page offers the application; the sessions page says this session is in it.
	b.get("/live/account").wantText(`<a href="` + rp.srv.URL + `/">Test HMIS</a>`)
	b.get("/live/account/sessions").wantText("<td>Test HMIS</td>")

	info, err := rp.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(s.token))
	if err != nil {
		t.Fatal(err)
	}
	var ic map[string]any
	info.Claims(&ic)
	for _, k := range []string{"sub", "preferred_username", "email", "hmis_role", "hmis_site"} {
		if ic[k] != cl[k] {
			t.Errorf("userinfo %s = %v, the ID token says %v", k, ic[k], cl[k])
		}
	}
	if ic["sid"] != nil {
		t.Errorf("userinfo has sid %v", ic["sid"])
	}
	// The token is of this site only.
	req, _ := http.NewRequest("GET", e.srv.URL+"/training/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+s.token.AccessToken)
	if res := e.do(http.DefaultClient, req); res.Status != http.StatusUnauthorized && res.Status != http.StatusForbidden {
		t.Errorf("a live token at the training userinfo: %d %s", res.Status, res.Body)
	}
}

// Refresh tokens rotate on every use; a rotated one used again revokes its whole family.
func TestRefreshTokensRotateAndReuseRevokesTheFamily(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.signInFor(b.open(rp.authURL()), username, goodPassword)
	first := rp.lastSignIn().token

	ctx := context.Background()
	expired := *first
	expired.Expiry = time.Now().Add(-time.Minute)
	second, err := rp.conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("a refresh did not rotate: %+v", second)
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(second)); err != nil {
		t.Fatalf("userinfo with the refreshed token: %v", err)
	}
	// The first refresh token again: reuse. It fails, and the new tokens die with it.
	if _, err := rp.conf.TokenSource(ctx, &expired).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("reusing a rotated refresh token: %v", err)
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(second)); err == nil {
		t.Error("the access token of a revoked family still works at userinfo")
	}
	again := *second
	again.Expiry = time.Now().Add(-time.Minute)
	if _, err := rp.conf.TokenSource(ctx, &again).Token(); err == nil {
		t.Error("the newest refresh token of a revoked family still works")
	}
	evs, err := e.store.Events(ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventRefreshReused})
	if err != nil || len(evs) != 1 || evs[0].Subject != username {
		t.Errorf("reuse in the audit log: %+v %v", evs, err)
	}
}

// A code works once: redeemed again, it fails and the tokens it gave are revoked.
func TestACodeWorksOnceAndItsReplayRevokesItsTokens(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rp.srv.URL) {
			return http.ErrUseLastResponse // the test redeems the code itself
		}
		return nil
	}
	authURL := rp.authURL()
	state := mustQuery(t, authURL, "state")
	r := b.signInFor(b.open(authURL), username, goodPassword)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != state {
		t.Fatalf("back to the application with %q", r.Header.Get("Location"))
	}
	code := loc.Query().Get("code")
	verifier := rp.pending[state].verifier
	ctx := context.Background()
	tok, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	replays := func() int {
		evs, err := e.store.Events(ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventCodeReplayed})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	if n := replays(); n != 0 {
		t.Fatalf("the first redemption is in the audit log as %d replays", n)
	}
	if _, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("the code redeemed twice: %v", err)
	}
	if n := replays(); n != 1 {
		t.Errorf("the replay is in the audit log %d times, want once", n)
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the access token of a replayed code still works")
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	if _, err := rp.conf.TokenSource(ctx, tok).Token(); err == nil {
		t.Error("the refresh token of a replayed code still works")
	}
}

func mustQuery(t *testing.T, raw, key string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(key)
}

// Signing out at the site ends the application's sign-in too: the application is told over
// the back channel, with a logout token go-oidc accepts, and its refresh token dies.
func TestSigningOutTellsTheApplications(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.signInFor(b.open(rp.authURL()), username, goodPassword)
	s := rp.lastSignIn()

	b.post("/live/logout", nil).wantPath("/live/login")
	if n, err := e.oidc.DeliverLogouts(context.Background()); err != nil || n != 1 {
		t.Fatalf("deliveries: %d, %v", n, err)
	}
	rp.mu.Lock()
	logouts := rp.logouts
	rp.mu.Unlock()
	if len(logouts) != 1 || logouts[0].SessionID != s.claims["sid"] || logouts[0].Subject != s.idToken.Subject {
		t.Fatalf("logout tokens received: %+v (sid of the sign-in %v)", logouts, s.claims["sid"])
	}
	s.token.Expiry = time.Now().Add(-time.Minute)
	if _, err := rp.conf.TokenSource(context.Background(), s.token).Token(); err == nil {
		t.Error("the refresh token outlived the session")
	}
	evs, _ := e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Action: hmisauth.EventBackchannelSent})
	if len(evs) != 1 || evs[0].Subject != username {
		t.Errorf("the delivery in the audit log: %+v", evs)
	}
}

// A worker whose lease runs out while the application answers has lost the notice to the
// next worker, which claims and delivers it: the stale worker's failure is not recorded over
// that delivery, and is no error.
func TestBackChannelLogoutOfAWorkerWhoseLeaseRanOutIsNotRecorded(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.signInFor(b.open(rp.authURL()), username, goodPassword)
	rp.lastSignIn()
	ctx := context.Background()
	calls := 0
	rp.mu.Lock()
	rp.onBackchannel = func() {
		if calls++; calls > 1 {
			return
		}
		// The first worker's request hangs past its lease; the next worker delivers meanwhile.
		e.clock.Advance(2 * time.Minute)
		if n, err := e.oidc.DeliverLogouts(ctx); err != nil || n != 1 {
			t.Errorf("the next worker's deliveries: %d, %v", n, err)
		}
		rp.mu.Lock()
		rp.backchannelDown = true // and the first request fails in the end
		rp.mu.Unlock()
	}
	rp.mu.Unlock()
	b.post("/live/logout", nil).wantPath("/live/login")
	if n, err := e.oidc.DeliverLogouts(ctx); err != nil || n != 0 {
		t.Fatalf("the stale worker's deliveries: %d, %v; want none finished and no error", n, err)
	}
	ns, err := e.store.LogoutNotices(ctx, 10)
	if err != nil || len(ns) != 1 {
		t.Fatalf("notices: %v, %v", ns, err)
	}
	if n := ns[0]; n.SentAt.IsZero() || n.LastError != "" || n.Attempts != 2 {
		t.Errorf("the notice: sent %v, error %q, %d attempts; want the next worker's delivery", n.SentAt, n.LastError, n.Attempts)
	}
	evs, _ := e.store.Events(ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventBackchannelSent})
	if len(evs) != 1 {
		t.Errorf("%d deliveries in the audit log, want 1", len(evs))
	}
}

// RP-initiated logout: the application sends the browser to end_session with its ID token;
// the session ends and the browser goes to the registered address with the state.
func TestTheApplicationSignsTheUserOut(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.signInFor(b.open(rp.authURL()), username, goodPassword)
	s := rp.lastSignIn()

	end := e.srv.URL + "/live/oidc/end_session?" + url.Values{"id_token_hint": {s.rawID},
		"post_logout_redirect_uri": {rp.srv.URL + "/signed-out"}, "state": {"xyz"}}.Encode()
	r := b.open(end)
	if r.URL.String() != rp.srv.URL+"/signed-out?state=xyz" {
		t.Fatalf("after end_session the browser is at %s", r.URL)
	}
	b.get("/live/account").wantPath("/live/login")
	// An address nobody registered is refused, not followed.
	evil := e.srv.URL + "/live/oidc/end_session?" + url.Values{"id_token_hint": {s.rawID},
		"post_logout_redirect_uri": {"https://evil.example/"}}.Encode()
	if r := e.browser().open(evil); r.URL.Host == "evil.example" || r.Status != http.StatusBadRequest {
		t.Errorf("an unregistered post-logout address: %d at %s", r.Status, r.URL)
	}
}

// prompt=none never shows a page: without a session the application hears login_required.
func TestPromptNoneWithoutASessionAnswersLoginRequired(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	rp := newRelyingParty(t, e, "live")
	r := e.ssoBrowser().open(rp.authURL(oauth2.SetAuthURLParam("prompt", "none")))
	if !strings.Contains(r.URL.RawQuery, "error=login_required") || r.URL.Host != strings.TrimPrefix(rp.srv.URL, "http://") {
		t.Fatalf("prompt=none without a session ended at %s", r.URL)
	}
}

// With a session, the next sign-in needs no page; prompt=login and max_age=0 ask again.
func TestASecondApplicationSignInReusesTheSessionUnlessAskedNotTo(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.signInFor(b.open(rp.authURL()), username, goodPassword)
	first := rp.lastSignIn()

	r := b.open(rp.authURL(oauth2.SetAuthURLParam("prompt", "none")))
	if r.URL.Host != strings.TrimPrefix(rp.srv.URL, "http://") || r.Status != http.StatusOK {
		t.Fatalf("prompt=none with a session ended at %s: %s", r.URL, r.Body)
	}
	if s := rp.lastSignIn(); s.claims["sid"] != first.claims["sid"] || s.claims["auth_time"] != first.claims["auth_time"] {
		t.Errorf("the silent sign-in has sid %v auth_time %v, the first %v %v", s.claims["sid"], s.claims["auth_time"],
			first.claims["sid"], first.claims["auth_time"])
	}
	for _, ask := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
		time.Sleep(1100 * time.Millisecond) // auth_time has whole seconds
		e.clock.Advance(time.Since(e.clock.Now()))
		r := b.open(rp.authURL(ask))
		r.wantPath("/live/login").wantText(`name="password"`)
		b.signInFor(r, username, goodPassword)
		if s := rp.lastSignIn(); s.claims["auth_time"] == first.claims["auth_time"] {
			t.Errorf("a fresh sign-in kept the old auth_time %v (sid %v, first %v)", s.claims["auth_time"], s.claims["sid"], first.claims["sid"])
		}
	}
}

// A request is bound to the browser that started it.
func TestARequestCannotBeFinishedInAnotherBrowser(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	r := e.ssoBrowser().open(rp.authURL())
	continueURL := r.URL.Query().Get("request")
	other := e.ssoBrowser()
	other.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
	r = other.get("/live/continue?request=" + continueURL)
	if r.Status != http.StatusForbidden {
		t.Fatalf("another browser finishing the request: %d", r.Status)
	}
	r.wantText("started in another web browser")
	rp.mu.Lock()
	n := len(rp.results)
	rp.mu.Unlock()
	if n != 0 {
		t.Error("the application got a sign-in from another browser")
	}
}

// The first sign-in's steps (terms, a new password) come first, then the application.
func TestRequiredActionsComeFirstThenTheApplication(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username, temp := e.newUser("live", "Jane", "Doe")
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	r := b.signInFor(b.open(rp.authURL()), username, temp)
	r.wantPath("/live/terms")
	r = b.post("/live/terms", url.Values{"version": {"1"}}).wantPath("/live/password")
	r = b.post("/live/password", url.Values{"new_password": {goodPassword}, "confirm_password": {goodPassword}})
	if r.URL.Host != strings.TrimPrefix(rp.srv.URL, "http://") {
		t.Fatalf("after the required actions the browser is at %s", r.URL)
	}
	rp.lastSignIn()
}

// A lock from wrong guesses stops new sign-ins, not the open session: the application still
// gets its sign-in. A disabled account gets nothing.
func TestLockedAndDisabledAccountsAtTheApplication(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
	e.lockOut("live", username)
	r := b.open(rp.authURL())
	if r.URL.Host != strings.TrimPrefix(rp.srv.URL, "http://") {
		t.Fatalf("a locked account with an open session ended at %s", r.URL)
	}
	rp.lastSignIn()

	fresh := e.ssoBrowser()
	r = fresh.signInFor(fresh.open(rp.authURL()), username, goodPassword)
	r.wantPath("/live/login").wantText("locked")

	if _, err := e.svc.SetDisabled(auth.WithActor(context.Background(), auth.Actor{Username: "cli:test"}), "live", username, true); err != nil {
		t.Fatal(err)
	}
	r = b.open(rp.authURL())
	r.wantPath("/live/login")
}

// A request the application cannot be answered at (a return address nobody registered) stops
// here, on a page that says what is wrong and whom to tell: never a redirect to that address.
func TestAnUnregisteredReturnAddressGetsAPage(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	rp := newRelyingParty(t, e, "live")
	q := url.Values{"client_id": {rp.client.ID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}}
	r := e.ssoBrowser().open(e.srv.URL + "/live/oidc/authorize?" + q.Encode())
	if r.Status != http.StatusBadRequest || r.URL.Host == "evil.example" {
		t.Fatalf("status %d at %s", r.Status, r.URL)
	}
	r.wantText("not set up to sign in through HMIS Live", "its return address is not registered", helpdeskEmail)
	q.Set("client_id", "nobody")
	e.ssoBrowser().open(e.srv.URL + "/live/oidc/authorize?" + q.Encode()).wantText("it is not registered")
}

// PKCE is S256 only, and a public client (no secret) cannot do without it.
func TestPKCEIsS256AndRequiredForPublicClients(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live", func(s *oidc.ClientSpec) { s.Public = true })
	b := e.ssoBrowser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rp.srv.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	base := url.Values{"client_id": {rp.client.ID}, "redirect_uri": {rp.srv.URL + "/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}}
	for _, tc := range []struct{ challenge, method string }{{"", ""}, {"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "plain"}} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		if tc.challenge != "" {
			q.Set("code_challenge", tc.challenge)
			q.Set("code_challenge_method", tc.method)
		}
		r := b.open(e.srv.URL + "/live/oidc/authorize?" + q.Encode())
		if got := mustQuery(t, r.Header.Get("Location"), "error"); got != "invalid_request" {
			t.Errorf("challenge %q method %q: error %q (%s)", tc.challenge, tc.method, got, r.Header.Get("Location"))
		}
	}
	// With S256 the public client signs in, and redeems its code with no secret.
	r := b.open(rp.authURL())
	code := mustQuery(t, r.Header.Get("Location"), "code")
	if code == "" {
		t.Fatalf("no code with S256: %s", r.Header.Get("Location"))
	}
}

// An application that is down when its user signs out is told later: the notice waits in
// the store and is retried with backoff until it gets through.
func TestBackChannelLogoutIsRetriedWhileTheApplicationIsDown(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	rp := newRelyingParty(t, e, "live")
	b := e.ssoBrowser()
	b.signInFor(b.open(rp.authURL()), username, goodPassword)
	rp.lastSignIn()
	rp.mu.Lock()
	rp.backchannelDown = true
	rp.mu.Unlock()
	b.post("/live/logout", nil).wantPath("/live/login")
	ctx := context.Background()
	if n, err := e.oidc.DeliverLogouts(ctx); err != nil || n != 0 {
		t.Fatalf("deliveries while the application is down: %d, %v", n, err)
	}
	rp.mu.Lock()
	rp.backchannelDown = false
	rp.mu.Unlock()
	if n, _ := e.oidc.DeliverLogouts(ctx); n != 0 {
		t.Fatal("a failed notice was retried at once, without waiting")
	}
	e.clock.Advance(2 * time.Minute)
	if n, err := e.oidc.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("deliveries after the backoff: %d, %v", n, err)
	}
	rp.mu.Lock()
	got := len(rp.logouts)
	rp.mu.Unlock()
	if got != 1 {
		t.Errorf("the application received %d logout tokens, want 1", got)
	}
}
