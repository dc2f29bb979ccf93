package auth_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// countingMetrics counts what the rate limits report.
type countingMetrics struct {
	hmisauth.NoMetrics
	mu      sync.Mutex
	limited map[string]int // by limit
	signIns map[string]int // by outcome
}

func (m *countingMetrics) RateLimited(site, limit string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.limited[limit]++
}

func (m *countingMetrics) SignIn(site, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.signIns[outcome]++
}

// limited is the fixture with a Service that counts into metrics, over the same store and
// sites, and its live site's rate limits set by edit.
func limited(t *testing.T, edit func(*hmisauth.Site)) (*fixture, *countingMetrics) {
	f := newFixture(t, func(s *hmisauth.Site) {
		if s.Key == "live" {
			edit(s)
		}
	})
	m := &countingMetrics{limited: map[string]int{}, signIns: map[string]int{}}
	f.svc = auth.NewService(auth.Deps{Store: f.store, Clock: f.clock, Hasher: f.hasher,
		Sites: []*hmisauth.Site{f.live, f.train}, Letters: f.letters, PublicURL: publicURL, Metrics: m})
	return f, m
}

// from signs in from a client address and returns the error.
func (f *fixture) from(addr, username, pw string) error {
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: username, Password: pw, ClientAddr: addr})
	return err
}

func TestFailedSignInsFromOneAddressAreLimitedUntilTheWindowEnds(t *testing.T) {
	f, m := limited(t, func(s *hmisauth.Site) {
		s.Policy.RateLimits.SignInPerAddress = 3
		s.Policy.Lockout.Threshold = 10
	})
	u := f.user("Ana", "Diaz")
	// Sign-ins that succeed are given back: an office signing in all morning is never limited.
	for range 6 {
		if err := f.from("192.0.2.7", u.Username, goodPassword); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		wantCode(t, f.from("192.0.2.7", u.Username, "Wrong-Guess-1"), hmisauth.ELoginFailed)
	}
	// The right password too, now: the address is refused before any password is checked.
	err := f.from("192.0.2.7", u.Username, goodPassword)
	wantCode(t, err, hmisauth.ERateLimited)
	e := hmisauth.AsError(err)
	// 15:00 UTC is 9:00 CST; the 15-minute window ends at 9:15.
	if e.RetryAfter != 15*time.Minute || !strings.Contains(e.Message, "from your network") ||
		!strings.Contains(e.Message, "try again at 9:15 AM CST (in 15 minutes)") {
		t.Errorf("refusal: %+v", e)
	}
	if u := f.reload(u.Username); u.Locked() {
		t.Error("the account locked: the refused attempt was counted against it")
	}
	// Another address is not affected.
	if err := f.from("192.0.2.8", u.Username, goodPassword); err != nil {
		t.Errorf("another address: %v", err)
	}
	if m.limited[hmisauth.RateLimitSignIn] != 1 || m.signIns[hmisauth.OutcomeRateLimited] != 1 {
		t.Errorf("metrics: limited %v, sign-ins %v", m.limited, m.signIns)
	}
	f.clock.Add(14*time.Minute + 59*time.Second)
	err = f.from("192.0.2.7", u.Username, goodPassword)
	if e := hmisauth.AsError(err); e == nil || e.RetryAfter != time.Second || !strings.Contains(e.Message, "(in 1 minute)") {
		t.Errorf("a second before the end: %v", err)
	}
	f.clock.Add(time.Second)
	if err := f.from("192.0.2.7", u.Username, goodPassword); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestSprayingCountsRealAndUnknownUsernamesAlike(t *testing.T) {
	f, m := limited(t, func(s *hmisauth.Site) {
		s.Policy.RateLimits.SprayUsernames = 3
		s.Policy.Lockout.Threshold = 10
	})
	ana, bo := f.user("Ana", "Diaz").Username, f.user("Bo", "Chen").Username
	for _, name := range []string{ana, "nobody1", strings.ToUpper(ana), ana, "nobody2"} {
		wantCode(t, f.from("192.0.2.7", name, "Summer2026!"), hmisauth.ELoginFailed)
	}
	// Three usernames have failed (case ignored, repeats counted once): the address is now
	// refused for a real and an unknown username in the same words.
	real, unknown := f.from("192.0.2.7", bo, "Summer2026!"), f.from("192.0.2.7", "nobody3", "Summer2026!")
	wantCode(t, real, hmisauth.ERateLimited)
	wantCode(t, unknown, hmisauth.ERateLimited)
	if !reflect.DeepEqual(hmisauth.AsError(real), hmisauth.AsError(unknown)) {
		t.Errorf("real %+v, unknown %+v", hmisauth.AsError(real), hmisauth.AsError(unknown))
	}
	// Even the right password of a username already counted.
	wantCode(t, f.from("192.0.2.7", ana, goodPassword), hmisauth.ERateLimited)
	if m.limited[hmisauth.RateLimitSpraying] != 3 || m.limited[hmisauth.RateLimitSignIn] != 0 {
		t.Errorf("metrics: %v", m.limited)
	}
	if err := f.from("192.0.2.8", bo, goodPassword); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// Guesses sent all at once cannot slip past the limit: each is counted before its password is
// checked, in one step of the Store.
func TestParallelGuessesStopAtTheLimit(t *testing.T) {
	f, _ := limited(t, func(s *hmisauth.Site) {
		s.Policy.RateLimits.SignInPerAddress = 5
		s.Policy.Lockout.Threshold = 100
	})
	u := f.user("Ana", "Diaz")
	codes := make([]string, 30)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i] = hmisauth.ErrorCode(f.from("192.0.2.7", u.Username, "Wrong-Guess-1")) })
	}
	wg.Wait()
	n := map[string]int{}
	for _, c := range codes {
		n[c]++
	}
	if n[hmisauth.ELoginFailed] != 5 || n[hmisauth.ERateLimited] != 25 {
		t.Errorf("answers %v, want 5 login_failed and 25 rate_limited", n)
	}
}

func TestRateLimitedSignInsAreSummarisedNotLoggedOneByOne(t *testing.T) {
	f, _ := limited(t, func(s *hmisauth.Site) { s.Policy.RateLimits.SignInPerAddress = 1 })
	wantCode(t, f.from("192.0.2.7", "nobody", "Wrong-Guess-1"), hmisauth.ELoginFailed)
	before := len(f.events())
	for i := range 20 {
		wantCode(t, f.from("192.0.2.7", []string{"amy", "bob"}[i%2], "Wrong-Guess-1"), hmisauth.ERateLimited)
	}
	evs := f.events()[before:]
	if len(evs) != 1 || evs[0].Action != hmisauth.EventLoginFailed || evs[0].ClientAddr != "192.0.2.7" ||
		evs[0].Detail != "rate_limited: too many failed sign-ins from this address" {
		t.Fatalf("20 refusals logged %+v", evs)
	}
	f.clock.Add(hmisauth.RefusalWindow)
	if n, err := f.svc.SummarizeRefusals(context.Background()); err != nil || n != 1 {
		t.Fatalf("summaries %d, %v", n, err)
	}
	sum := f.events()[before+1]
	if sum.Action != hmisauth.EventRateLimited || sum.ClientAddr != "192.0.2.7" ||
		!strings.HasPrefix(sum.Detail, "19 more sign-in attempts refused from 192.0.2.7 (too many failed sign-ins from this address), ") ||
		!strings.HasSuffix(sum.Detail, "for 2 usernames: bob, amy") {
		t.Errorf("summary %+v", sum)
	}
}

func TestSecondStepsCountLikePasswords(t *testing.T) {
	f, _ := limited(t, func(s *hmisauth.Site) {
		s.Policy.RateLimits.SignInPerAddress = 2
		s.Policy.Lockout.Threshold = 10
	})
	u, _, _ := f.withTOTP("Ana", "Diaz")
	c := f.challenge(u.Username) // the right password, given back
	for range 2 {
		_, err := f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: c.Token, Code: "000000", ClientAddr: "127.0.0.1"})
		wantCode(t, err, hmisauth.ETOTPWrong)
	}
	_, err := f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: c.Token, Code: "000000", ClientAddr: "127.0.0.1"})
	wantCode(t, err, hmisauth.ERateLimited)
}

func TestForgotPasswordOverTheLimitIsRefusedOpenly(t *testing.T) {
	f, m := limited(t, func(s *hmisauth.Site) { s.Policy.ResetLimits.PerAddress = 2 })
	u := f.user("Ana", "Diaz")
	ask := func(username string) error {
		return f.svc.RequestReset(f.ctx, auth.ForgotRequest{Site: "live", Username: username, ClientAddr: "192.0.2.7"})
	}
	for _, name := range []string{u.Username, "nobody"} {
		if err := ask(name); err != nil {
			t.Fatal(err)
		}
	}
	real, unknown := ask(u.Username), ask("nobody")
	wantCode(t, real, hmisauth.ERateLimited)
	if !reflect.DeepEqual(hmisauth.AsError(real), hmisauth.AsError(unknown)) {
		t.Errorf("real %+v, unknown %+v", hmisauth.AsError(real), hmisauth.AsError(unknown))
	}
	if e := hmisauth.AsError(real); e.RetryAfter != 15*time.Minute || !strings.Contains(e.Message, "password-reset requests") {
		t.Errorf("refusal %+v", e)
	}
	if m.limited[hmisauth.RateLimitForgot] != 2 {
		t.Errorf("metrics %v", m.limited)
	}
	if err := f.svc.RequestReset(f.ctx, auth.ForgotRequest{Site: "live", Username: u.Username, ClientAddr: "192.0.2.8"}); err != nil {
		t.Errorf("another address: %v", err)
	}
}

func TestResetLinksThatDoNotWorkAreLimited(t *testing.T) {
	f, m := limited(t, func(s *hmisauth.Site) {
		s.Policy.RateLimits.ResetPerAddress = 2
		s.Policy.ResetLinkTTL = time.Hour
	})
	f.forgot(f.user("Ana", "Diaz").Username)
	token := f.resetToken()
	ctx := auth.WithActor(f.ctx, auth.Actor{ClientAddr: "192.0.2.7"})
	// A link that works is given back, however often it is opened.
	for range 5 {
		if _, err := f.svc.OpenResetLink(ctx, "live", token); err != nil {
			t.Fatal(err)
		}
	}
	for _, guess := range []string{"guess-1", "guess-2"} {
		_, err := f.svc.OpenResetLink(ctx, "live", guess)
		wantCode(t, err, hmisauth.ETokenInvalid)
	}
	_, err := f.svc.OpenResetLink(ctx, "live", "guess-3")
	wantCode(t, err, hmisauth.ERateLimited)
	_, err = f.svc.OpenResetLink(ctx, "live", token)
	wantCode(t, err, hmisauth.ERateLimited)
	wantCode(t, f.svc.CompleteReset(ctx, auth.ResetRequest{Site: "live", Token: token, New: newPassword, Confirm: newPassword}), hmisauth.ERateLimited)
	if m.limited[hmisauth.RateLimitReset] != 3 {
		t.Errorf("metrics %v", m.limited)
	}
	f.clock.Add(15 * time.Minute)
	if err := f.svc.CompleteReset(ctx, auth.ResetRequest{Site: "live", Token: token, New: newPassword, Confirm: newPassword}); err != nil {
		t.Errorf("after the window: %v", err)
	}
}
