package demoapp_test

import (
	"context"
	"go/build"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/demoapp"
	"github.com/hmisauth/hmisauth/mail"
	"github.com/hmisauth/hmisauth/oidc"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/sqlite"
	"github.com/hmisauth/hmisauth/web"
)

// The demo is tested as a newcomer meets it: a real hmisauth server and the demo, each on
// its own loopback port, and a browser (a cookie jar following redirects) between them.
// The server runs on the real clock: the provider stamps ID tokens with the system time and
// go-oidc checks them against it.

const newPassword = "Blue-Kettle-42-Rain"

// world is hmisauth with its live site, and the demo registered on it.
type world struct {
	t       *testing.T
	svc     *auth.Service
	oidc    *oidc.Provider
	hmisURL string
	demoURL string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "hmisauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hmis := httptest.NewUnstartedServer(nil)
	demo := httptest.NewUnstartedServer(nil)
	w := &world{t: t, hmisURL: "http://" + hmis.Listener.Addr().String(), demoURL: "http://" + demo.Listener.Addr().String()}

	policy := hmisauth.DefaultPolicy()
	policy.Terms.Text = "Keep client information confidential."
	sites := []*hmisauth.Site{{Key: "live", Name: "HMIS Live", Timezone: "UTC", Location: time.UTC, Policy: policy,
		Helpdesk: hmisauth.Helpdesk{Email: "helpdesk@example.org", Phone: "555-0100"}}}
	keys, err := auth.NewKeys(auth.NewServerKey())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	// The password-changed notice is written to the outbox, which nothing here delivers.
	letters, err := mail.NewLetters(mail.LetterOptions{From: "HMIS <donotreply@example.org>", PublicURL: w.hmisURL})
	if err != nil {
		t.Fatal(err)
	}
	w.svc = auth.NewService(auth.Deps{Store: st, Clock: hmisauth.SystemClock{}, Sites: sites, Keys: keys, Log: log, Letters: letters,
		Hasher: password.NewHasher(password.Options{MemoryKiB: 8192, Iterations: 1, Parallelism: 1, Concurrency: 2,
			Queue: 64, QueueWait: 5 * time.Second}), PublicURL: w.hmisURL})
	if err := w.svc.SyncSites(ctx); err != nil {
		t.Fatal(err)
	}
	w.oidc, err = oidc.New(oidc.Deps{Store: st, Auth: w.svc, Keys: keys, Clock: hmisauth.SystemClock{}, PublicURL: w.hmisURL, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	hmis.Config.Handler = web.New(w.svc, web.Options{Log: log, OIDC: w.oidc, PublicURL: w.hmisURL}).Handler()

	const secret = "demo-secret-of-the-test-0123456789"
	_, err = w.oidc.EnsureClient(ctx, "live", "demo-hmis", oidc.ClientSpec{Name: "Demo HMIS app", HomeURL: w.demoURL + "/",
		RedirectURIs: []string{w.demoURL + "/callback"}, PostLogoutRedirectURIs: []string{w.demoURL + "/"},
		BackchannelLogoutURI: w.demoURL + "/backchannel", Scopes: []string{"openid", "profile", "email", "phone", "hmis"}}, secret)
	if err != nil {
		t.Fatal(err)
	}
	// The demo is built before the server listens, as serve does: discovery waits for first use.
	demo.Config.Handler = demoapp.New(demoapp.Options{Issuer: w.hmisURL + "/live", SiteName: "HMIS Live",
		ClientID: "demo-hmis", ClientSecret: secret, BaseURL: w.demoURL})
	demo.Start()
	t.Cleanup(demo.Close)
	hmis.Start()
	t.Cleanup(hmis.Close)
	return w
}

// newUser creates an account the way the helpdesk does, in an agency, and returns its
// username and temporary password.
func (w *world) newUser(first, last, role string) (string, string) {
	w.t.Helper()
	ctx := auth.WithActor(context.Background(), auth.Actor{Username: "cli:setup"})
	agency := "Hope Shelter"
	if _, err := w.svc.CreateAgency(ctx, "live", auth.AgencyChange{Name: &agency}); err != nil &&
		hmisauth.ErrorCode(err) != hmisauth.ECONFLICT {
		w.t.Fatal(err)
	}
	c, err := w.svc.CreateUser(ctx, auth.NewUser{Site: "live", FirstName: first, LastName: last, Role: role,
		Agency: agency, Email: strings.ToLower(first) + "@hope.example.org"})
	if err != nil {
		w.t.Fatal(err)
	}
	return c.User.Username, c.TemporaryPassword
}

type browser struct {
	w *world
	c *http.Client
}

func (w *world) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return &browser{w: w, c: &http.Client{Jar: jar}}
}

type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.w.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.w.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &page{status: res.StatusCode, url: res.Request.URL, body: string(body), header: res.Header}
}

func (b *browser) get(u string) *page {
	b.w.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

// post submits a form as a browser does from a page of the same origin.
func (b *browser) post(u string, form url.Values) *page {
	b.w.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (p *page) want(t *testing.T, at string, texts ...string) {
	t.Helper()
	if got := p.url.Scheme + "://" + p.url.Host + p.url.Path; got != at {
		t.Fatalf("ended at %s (%d), want %s: %.400s", p.url, p.status, at, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s lacks %q: %.2000s", p.url, s, p.body)
		}
	}
}

// signIn goes from the demo's button through a first sign-in (the terms, a new password)
// back to the demo.
func (w *world) signIn(b *browser, username, temp string) *page {
	w.t.Helper()
	b.get(w.demoURL+"/").want(w.t, w.demoURL+"/", "Sign in with HMIS Live")
	b.get(w.demoURL+"/login").want(w.t, w.hmisURL+"/live/login")
	b.post(w.hmisURL+"/live/login", url.Values{"username": {username}, "password": {temp}}).want(w.t, w.hmisURL+"/live/terms")
	b.post(w.hmisURL+"/live/terms", url.Values{"version": {"1"}}).want(w.t, w.hmisURL+"/live/password")
	return b.post(w.hmisURL+"/live/password", url.Values{"new_password": {newPassword}, "confirm_password": {newPassword}})
}

func TestSigningInShowsWhoSignedIn(t *testing.T) {
	w := newWorld(t)
	username, temp := w.newUser("Maria", "Lopez", "agency_admin")
	p := w.signIn(w.browser(), username, temp)
	p.want(t, w.demoURL+"/", "Welcome, Maria Lopez", "<dd>"+username+"</dd>", "Agency administrator", "Hope Shelter",
		"HMIS Live (live)", "Password", "amr [&#34;pwd&#34;], acr pwd", "Sign out",
		"<dt>hmis_role</dt><dd>agency_admin</dd>", "<dt>preferred_username</dt><dd>"+username+"</dd>",
		"The userinfo endpoint's answer", "<dt>email</dt><dd>maria@hope.example.org</dd>")
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
}

// Signing out of the demo ends the hmisauth session too (RP-initiated logout) and comes back
// to the demo's start.
func TestSigningOutEndsBothSessions(t *testing.T) {
	w := newWorld(t)
	username, temp := w.newUser("Maria", "Lopez", "user")
	b := w.browser()
	w.signIn(b, username, temp).want(t, w.demoURL+"/", "Welcome, Maria Lopez")

	p := b.post(w.demoURL+"/logout", nil)
	p.want(t, w.demoURL+"/", "You are signed out of this app and of HMIS Live.", "Sign in with HMIS Live")
	b.get(w.hmisURL+"/live/account").want(t, w.hmisURL+"/live/login")
	b.get(w.demoURL+"/").want(t, w.demoURL+"/", "Sign in with HMIS Live")
}

// Signing out at hmisauth itself reaches the demo over the back channel: its next page says
// the session ended, and shows the sign-in button.
func TestSigningOutAtTheSiteSignsTheDemoOut(t *testing.T) {
	w := newWorld(t)
	username, temp := w.newUser("Maria", "Lopez", "user")
	b := w.browser()
	w.signIn(b, username, temp).want(t, w.demoURL+"/", "Welcome, Maria Lopez")
	other := w.browser() // someone else's sign-in stays
	otherName, otherTemp := w.newUser("John", "Doe", "user")
	w.signIn(other, otherName, otherTemp).want(t, w.demoURL+"/", "Welcome, John Doe")

	b.post(w.hmisURL+"/live/logout", nil).want(t, w.hmisURL+"/live/login")
	if n, err := w.oidc.DeliverLogouts(context.Background()); err != nil || n != 1 {
		t.Fatalf("back-channel deliveries: %d, %v", n, err)
	}
	b.get(w.demoURL+"/").want(t, w.demoURL+"/", "HMIS Live ended your session", "Sign in with HMIS Live")
	b.get(w.demoURL+"/").want(t, w.demoURL+"/", "Sign in with HMIS Live")
	other.get(w.demoURL+"/").want(t, w.demoURL+"/", "Welcome, John Doe")
}

// What a stranger might try: a forged logout token, a sign-out posted from another site, a
// callback with a state this browser did not start.
func TestTheDemoRefusesForgeries(t *testing.T) {
	w := newWorld(t)
	username, temp := w.newUser("Maria", "Lopez", "user")
	b := w.browser()
	w.signIn(b, username, temp).want(t, w.demoURL+"/", "Welcome, Maria Lopez")

	res, err := http.PostForm(w.demoURL+"/backchannel", url.Values{"logout_token": {"eyJhbGciOiJub25lIn0.e30."}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged logout token answered %d", res.StatusCode)
	}

	req, _ := http.NewRequest("POST", w.demoURL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("a cross-site sign-out answered %d", p.status)
	}

	p := b.get(w.demoURL + "/callback?code=x&state=not-mine")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "started in another window") {
		t.Errorf("a callback with a foreign state: %d %.300s", p.status, p.body)
	}
	b.get(w.demoURL+"/").want(t, w.demoURL+"/", "Welcome, Maria Lopez")
}

// A demo whose server is not there says so, instead of failing somewhere less helpful.
func TestTheDemoSaysWhenTheSiteIsNotAnswering(t *testing.T) {
	gone := httptest.NewUnstartedServer(nil)
	issuer := "http://" + gone.Listener.Addr().String() + "/live"
	gone.Listener.Close()
	demo := httptest.NewUnstartedServer(nil)
	demo.Config.Handler = demoapp.New(demoapp.Options{Issuer: issuer, SiteName: "HMIS Live", ClientID: "demo-hmis",
		ClientSecret: "x", BaseURL: "http://" + demo.Listener.Addr().String()})
	demo.Start()
	defer demo.Close()
	res, err := http.Get(demo.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "HMIS Live is not answering at "+issuer) {
		t.Errorf("%d %.500s", res.StatusCode, body)
	}
}

// The demo knows hmisauth only over HTTP: it imports none of its packages.
func TestTheDemoImportsNothingOfHmisauth(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/hmisauth/hmisauth") {
			t.Errorf("demoapp imports %s", imp)
		}
	}
}
