package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/mail"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/teststore"
)

// clock is a controllable hmisauth.Clock: time rules are tested by moving it, never by sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a Service over a real SQLite database with a fake clock and cheap hashes.
type fixture struct {
	t       testing.TB
	ctx     context.Context
	svc     *auth.Service
	store   hmisauth.Store
	clock   *clock
	hasher  *password.Hasher
	live    *hmisauth.Site
	train   *hmisauth.Site
	letters hmisauth.Letters
	// setupMail counts the e-mails that setting up users queued (their first password change
	// sends a notice, and withTOTP's app another), which outbox() leaves out.
	setupMail int
}

const publicURL = "https://hmis.example.org"

// testHashOptions are the smallest Argon2id parameters the validator accepts, so tests run
// the real hash quickly.
var testHashOptions = password.Options{MemoryKiB: 8192, Iterations: 1, Parallelism: 1, Concurrency: 2, Queue: 1024, QueueWait: time.Minute}

func newFixture(t testing.TB, edit ...func(*hmisauth.Site)) *fixture {
	t.Helper()
	ctx := context.Background()
	st := teststore.Open(t)
	chicago, _ := time.LoadLocation("America/Chicago")
	site := func(key, name string, training bool) *hmisauth.Site {
		s := &hmisauth.Site{Key: key, Name: name, Training: training, Timezone: "America/Chicago", Location: chicago,
			Helpdesk: hmisauth.Helpdesk{Email: "helpdesk@example.org", Phone: "555-0100"}, Policy: hmisauth.DefaultPolicy()}
		for _, e := range edit {
			e(s)
		}
		return s
	}
	f := &fixture{t: t, ctx: ctx, store: st,
		clock:  &clock{now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)},
		hasher: password.NewHasher(testHashOptions),
		live:   site("live", "HMIS Live", false), train: site("training", "HMIS Training", true)}
	letters, err := mail.NewLetters(mail.LetterOptions{From: "HMIS Helpdesk <donotreply@example.org>", PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	f.letters = letters
	f.svc = auth.NewService(auth.Deps{Store: st, Clock: f.clock, Hasher: f.hasher,
		Sites: []*hmisauth.Site{f.live, f.train}, Letters: letters, PublicURL: publicURL})
	if err := f.svc.SyncSites(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

const goodPassword = "Kettle-Harbor-93!"

// user creates a user on the live site and signs them in through the first-login steps, so
// they end with their own password goodPassword and no required actions.
func (f *fixture) user(first, last string) *hmisauth.User {
	f.t.Helper()
	c := f.create(auth.NewUser{Site: "live", FirstName: first, LastName: last, Email: "x@example.org"})
	res := f.login(c.User.Username, c.TemporaryPassword)
	if err := f.svc.AcceptTerms(f.ctx, res.Principal, f.live.Policy.Terms.Version); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.ChangePassword(f.ctx, res.Principal, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword}); err != nil {
		f.t.Fatal(err)
	}
	f.setupMail++
	return f.reload(c.User.Username)
}

func (f *fixture) create(req auth.NewUser) *auth.Created {
	f.t.Helper()
	c, err := f.svc.CreateUser(f.ctx, req)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) login(username, pw string) *auth.LoginResult {
	f.t.Helper()
	res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: username, Password: pw, ClientAddr: "127.0.0.1"})
	if err != nil {
		f.t.Fatalf("login %s: %v", username, err)
	}
	return res
}

// attempt signs in and returns the error code ("" on success).
func (f *fixture) attempt(username, pw string) string {
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: username, Password: pw})
	return hmisauth.ErrorCode(err)
}

func (f *fixture) reload(username string) *hmisauth.User {
	f.t.Helper()
	u, err := f.store.User(f.ctx, "live", username)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hmisauth.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func newHasher(o password.Options) *password.Hasher { return password.NewHasher(o) }
