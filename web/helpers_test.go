package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/mail"
	"github.com/hmisauth/hmisauth/oidc"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/teststore"
	"github.com/hmisauth/hmisauth/web"
)

// helpdeskEmail and helpdeskPhone are the test sites' helpdesk, which locked users are told
// to contact.
const (
	helpdeskEmail = "helpdesk@example.org"
	helpdeskPhone = "555-0100"
	termsText     = "Keep client information confidential.\n\nNever share your password."
	goodPassword  = "Blue-Kettle-42-Rain"
	otherPassword = "Green!Lantern7Sky"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects the server's log for checks that it holds no secrets.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one real server on loopback: SQLite in a temporary directory, the real rules, a
// clock the test controls, and the real e-mail templates and outbox worker with the dev
// transport.
type env struct {
	t      testing.TB
	clock  *fakeClock
	store  hmisauth.Store
	svc    *auth.Service
	srv    *httptest.Server
	logs   *syncBuffer
	worker *mail.Worker
	oidc   *oidc.Provider
	// lastMail is the newest message newMail has returned.
	lastMail int64
}

// mailFrom is the test installation's sender.
const mailFrom = "HMIS Helpdesk <donotreply@example.org>"

func testSites() []*hmisauth.Site {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	site := func(key, name string, training bool) *hmisauth.Site {
		p := hmisauth.DefaultPolicy()
		p.Terms.Text = termsText
		return &hmisauth.Site{Key: key, Name: name, Training: training, Timezone: "America/Chicago",
			Location: chicago, Policy: p,
			Helpdesk: hmisauth.Helpdesk{Email: helpdeskEmail, Phone: helpdeskPhone, Hours: "Mon-Fri 8-5"}}
	}
	return []*hmisauth.Site{site("live", "HMIS Live", false), site("training", "HMIS Training", true)}
}

func newEnv(t testing.TB, configure ...func(*web.Options)) *env {
	t.Helper()
	return newEnvSites(t, testSites(), configure...)
}

// newEnvSites is newEnv with sites of the test's own.
func newEnvSites(t testing.TB, sites []*hmisauth.Site, configure ...func(*web.Options)) *env {
	t.Helper()
	return newEnvAt(t, sites, false, configure...)
}

// newEnvAt builds the env; with localhost, the server's public URL (and the address tests and
// browsers use) is http://localhost:PORT instead of the loopback IP: passkeys need a host
// name (an IP address is not a valid WebAuthn relying party).
func newEnvAt(t testing.TB, sites []*hmisauth.Site, localhost bool, configure ...func(*web.Options)) *env {
	t.Helper()
	ctx := context.Background()
	st := teststore.Open(t)
	// The server's address is the public URL of the links in e-mails, so it is known before
	// the rules that write them are made; the handler is set once they are.
	srv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + srv.Listener.Addr().String()
	if localhost {
		publicURL = fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	}

	clock := &fakeClock{t: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
	hasher := password.NewHasher(password.Options{MemoryKiB: 8192, Iterations: 1, Parallelism: 1,
		Concurrency: 2, Queue: 256, QueueWait: 5 * time.Second})
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	letters, err := mail.NewLetters(mail.LetterOptions{From: mailFrom, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := mail.NewMailer(mail.Options{Transport: "dev", From: mailFrom})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeys(auth.NewServerKey())
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(auth.Deps{Store: st, Clock: clock, Hasher: hasher, Sites: sites, Keys: keys,
		Letters: letters, PublicURL: publicURL, Log: log})
	if err := svc.SyncSites(ctx); err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.New(oidc.Deps{Store: st, Auth: svc, Keys: keys, Clock: clock, PublicURL: publicURL, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	opts := web.Options{Log: log, Ready: st.Ping, Clock: clock, DevInbox: st.RecentMail, PublicURL: publicURL, OIDC: provider}
	for _, f := range configure {
		f(&opts)
	}
	srv.Config.Handler = web.New(svc, opts).Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	if localhost {
		srv.URL = publicURL // what the browser and the test's requests use
	}
	if srv.URL != publicURL {
		t.Fatalf("server at %s, links to %s", srv.URL, publicURL)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return &env{t: t, clock: clock, store: st, svc: svc, srv: srv, logs: logs, oidc: provider,
		worker: mail.NewWorker(st, mailer, clock, log, mail.WorkerOptions{KeepBody: true})}
}

// newMail delivers what is queued the way the running server does — reset requests become
// links and e-mails, then the outbox worker sends them with the dev transport — and returns
// the messages queued since the last call, oldest first, as the development inbox stores them.
func (e *env) newMail() []*hmisauth.Message {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.svc.ProcessResetRequests(ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.worker.RunOnce(ctx); err != nil {
		e.t.Fatal(err)
	}
	recent, err := e.store.RecentMail(ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*hmisauth.Message
	for i := len(recent) - 1; i >= 0; i-- {
		if m := recent[i]; m.ID > e.lastMail {
			out = append(out, m)
			e.lastMail = m.ID
		}
	}
	return out
}

// oneMail delivers and returns the one message queued since the last delivery, failing the
// test when there is not exactly one.
func (e *env) oneMail() *hmisauth.Message {
	e.t.Helper()
	msgs := e.newMail()
	if len(msgs) != 1 {
		var kinds []string
		for _, m := range msgs {
			kinds = append(kinds, m.Kind+" to "+m.To)
		}
		e.t.Fatalf("%d e-mails, want exactly 1: %v", len(msgs), kinds)
	}
	return msgs[0]
}

// newUser creates an account the way the helpdesk does and returns its username and
// temporary password.
func (e *env) newUser(site, first, last string) (string, string) {
	e.t.Helper()
	c, err := e.svc.CreateUser(context.Background(), auth.NewUser{Site: site, FirstName: first, LastName: last,
		Email: strings.ToLower(first) + "@agency.example.org"})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.User.Username, c.TemporaryPassword
}

// activeUser creates an account and walks it through first sign-in, so it has a password of
// its own (pw) and nothing pending (on a site without a security question), and delivers the
// e-mail that sends.
func (e *env) activeUser(site, first, last, pw string) string {
	e.t.Helper()
	username, temp := e.newUser(site, first, last)
	token := e.login(site, username, temp)
	e.expect(e.api("POST", site, "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", site, "/me/password", token,
		map[string]any{"new_password": pw, "confirm_password": pw}), 204, "")
	e.newMail() // the "password changed" notice: tests count the e-mails after this
	return username
}

// login signs in through the API and returns the token.
func (e *env) login(site, username, pw string) string {
	e.t.Helper()
	r := e.expect(e.api("POST", site, "/login", "", map[string]any{"username": username, "password": pw}), 200, "")
	var body struct{ Token string }
	r.decode(&body)
	if body.Token == "" {
		e.t.Fatal("login answered no token")
	}
	return body.Token
}

// response is a finished HTTP exchange with its body read.
type response struct {
	t      testing.TB
	Status int
	Header http.Header
	Body   []byte
	URL    *url.URL // after redirects
}

func (r *response) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errorCode is the "error" of a JSON error body.
func (r *response) errorCode() string {
	var body struct{ Error string }
	json.Unmarshal(r.Body, &body)
	return body.Error
}

func (r *response) text() string { return string(r.Body) }

// api calls the JSON API of a site with an optional bearer token and JSON body.
func (e *env) api(method, site, path, token string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/api/v1/sites/"+site+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(http.DefaultClient, req)
}

func (e *env) do(c *http.Client, req *http.Request) *response {
	e.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{t: e.t, Status: res.StatusCode, Header: res.Header, Body: b, URL: res.Request.URL}
}

// expect checks a response's status and, for an error, its code.
func (e *env) expect(r *response, status int, code string) *response {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if code != "" && r.errorCode() != code {
		e.t.Fatalf("error %q, want %q; body %s", r.errorCode(), code, r.Body)
	}
	return r
}

// browser is a cookie-keeping client for the HTML pages.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, c: &http.Client{Jar: jar}}
}

func (b *browser) get(path string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest("GET", b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.e.do(b.c, req)
}

// post submits a form as a browser on the same origin would.
func (b *browser) post(path string, form url.Values) *response {
	b.e.t.Helper()
	req, err := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.e.do(b.c, req)
}

// wantPath checks where a page request ended up after redirects.
func (r *response) wantPath(path string) *response {
	r.t.Helper()
	if got := r.URL.Path; got != path {
		r.t.Fatalf("ended at %s, want %s (status %d)", r.URL, path, r.Status)
	}
	return r
}

// wantText checks that a page contains each string.
func (r *response) wantText(want ...string) *response {
	r.t.Helper()
	for _, w := range want {
		if !strings.Contains(string(r.Body), w) {
			r.t.Errorf("%s: page lacks %q", r.URL.Path, w)
		}
	}
	return r
}

// lackText checks that a page contains none of the strings.
func (r *response) lackText(unwanted ...string) *response {
	r.t.Helper()
	for _, w := range unwanted {
		if strings.Contains(string(r.Body), w) {
			r.t.Errorf("%s: page has %q", r.URL.Path, w)
		}
	}
	return r
}
