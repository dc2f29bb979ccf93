package auth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// counts is an hmisauth.Metrics that remembers what it was told.
type counts struct {
	hmisauth.NoMetrics
	mu       sync.Mutex
	signIns  map[string]int // outcome → count
	lockouts int
	started  int
	ended    map[string]int // reason → sessions
}

func (c *counts) SignIn(site, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.signIns[outcome]++
}
func (c *counts) Lockout(string)        { c.mu.Lock(); c.lockouts++; c.mu.Unlock() }
func (c *counts) SessionStarted(string) { c.mu.Lock(); c.started++; c.mu.Unlock() }
func (c *counts) SessionEnded(site, reason string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended[reason] += n
}

// withMetrics gives f a service that counts into the returned counts (before any user is
// made: the service's own key seals their authenticator secrets).
func withMetrics(f *fixture) *counts {
	c := &counts{signIns: map[string]int{}, ended: map[string]int{}}
	f.svc = auth.NewService(auth.Deps{Store: f.store, Clock: f.clock, Hasher: f.hasher,
		Sites: []*hmisauth.Site{f.live, f.train}, Letters: f.letters, PublicURL: publicURL, Metrics: c})
	return c
}

func TestSignInOutcomesAreCounted(t *testing.T) {
	f := newFixture(t)
	c := withMetrics(f)
	u, _, _ := f.withTOTP("Ana", "Diaz") // its first sign-ins: two successes
	plain := f.user("Ben", "Ode")        // one success

	if _, err := f.loginWith(u.Username, goodPassword, ""); hmisauth.ErrorCode(err) != hmisauth.ETOTPRequired {
		t.Fatalf("no code: %v", err)
	}
	f.attempt(plain.Username, "Wrong-Password-1!")
	f.attempt("nobody", "Wrong-Password-1!")
	// A caller that has gone is told busy before anything is counted against the account.
	gone, cancel := context.WithCancel(f.ctx)
	cancel()
	if _, err := f.svc.Login(gone, auth.LoginRequest{Site: "live", Username: plain.Username, Password: goodPassword}); hmisauth.ErrorCode(err) != hmisauth.EBusy {
		t.Fatalf("cancelled: %v", err)
	}
	for range 3 {
		f.attempt(plain.Username, "Wrong-Password-2!") // the second locks (threshold 3), the third is refused
	}
	// Not attempts: an empty password, an unknown site.
	f.attempt(plain.Username, "")
	f.svc.Login(f.ctx, auth.LoginRequest{Site: "nowhere", Username: plain.Username, Password: goodPassword})

	want := map[string]int{"success": 3, "totp_required": 1, "failed": 3, "busy": 1, "locked": 2}
	for outcome, n := range want {
		if c.signIns[outcome] != n {
			t.Errorf("%s: %d, want %d (all: %v)", outcome, c.signIns[outcome], n, c.signIns)
		}
	}
	if len(c.signIns) != len(want) {
		t.Errorf("outcomes %v, want %v", c.signIns, want)
	}
	if c.lockouts != 1 {
		t.Errorf("lockouts %d, want 1", c.lockouts)
	}
}

func TestSessionsStartedAndEndedAreCounted(t *testing.T) {
	f := newFixture(t)
	c := withMetrics(f)
	u := f.user("Ana", "Diaz") // one session, kept by its password change
	a := f.login(u.Username, goodPassword).Principal
	f.login(u.Username, goodPassword)
	f.login(u.Username, goodPassword)
	if err := f.svc.EndOtherSessions(f.ctx, a); err != nil { // the first and the last two
		t.Fatal(err)
	}
	if err := f.svc.Logout(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	if c.started != 4 || c.ended[hmisauth.EndedByUser] != 3 || c.ended[hmisauth.EndedSignedOut] != 1 {
		t.Errorf("started %d, ended %v", c.started, c.ended)
	}
}
