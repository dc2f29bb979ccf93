package auth_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func TestRightPasswordSignsIn(t *testing.T) {
	f := newFixture(t)
	u := f.user("John", "Doe")
	res := f.login("JDOE", goodPassword) // usernames are case-insensitive
	if res.Principal.User.ID != u.ID || len(res.Principal.RequiredActions) != 0 {
		t.Fatalf("principal = %+v", res.Principal)
	}
	if len(res.Token) < 43 {
		t.Errorf("token %q is shorter than 256 bits", res.Token)
	}
	if code := f.attempt("jdoe", strings.ToLower(goodPassword)); code != hmisauth.ELoginFailed {
		t.Errorf("passwords must be case-sensitive: %q", code)
	}
}

func TestThirdWrongPasswordLocks(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	for i, want := range []string{hmisauth.ELoginFailed, hmisauth.ELoginFailed, hmisauth.EAccountLocked, hmisauth.EAccountLocked} {
		if got := f.attempt("jdoe", "wrong"); got != want {
			t.Fatalf("attempt %d: %q, want %q", i+1, got, want)
		}
	}
	if got := f.attempt("jdoe", goodPassword); got != hmisauth.EAccountLocked {
		t.Fatalf("right password on a locked account: %q", got)
	}
	u := f.reload("jdoe")
	if !u.Locked() || u.FailedAttempts != 3 {
		t.Fatalf("locked=%v failed=%d", u.Locked(), u.FailedAttempts)
	}
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe", Password: "x"})
	if msg := hmisauth.ErrorMessage(err); !strings.Contains(msg, "helpdesk@example.org") {
		t.Errorf("locked message %q lacks the helpdesk contact", msg)
	}
}

func TestLockedAccountIsRefusedWithoutAHash(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	before := f.hasher.Hashes()
	f.attempt("jdoe", "wrong")
	f.attempt("nobody", "wrong") // nobody is not locked: this one costs a hash
	if got := f.hasher.Hashes() - before; got != 1 {
		t.Fatalf("hashes computed = %d, want 1 (none for the locked account)", got)
	}
}

func TestSuccessResetsTheCount(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.attempt("jdoe", "wrong")
	f.attempt("jdoe", "wrong")
	f.login("jdoe", goodPassword)
	if u := f.reload("jdoe"); u.FailedAttempts != 0 {
		t.Fatalf("failed attempts after success = %d", u.FailedAttempts)
	}
	f.attempt("jdoe", "wrong")
	f.attempt("jdoe", "wrong")
	if u := f.reload("jdoe"); u.Locked() {
		t.Fatal("two failures after a success must not lock")
	}
}

func TestUnknownUsernamesAreCountedLikeRealOnes(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	for i := range 4 {
		real, unknown := f.attempt("jdoe", "wrong"), f.attempt("nosuchuser", "wrong")
		if real != unknown {
			t.Fatalf("attempt %d: real user %q, unknown user %q", i+1, real, unknown)
		}
	}
	_, errReal := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe", Password: "x"})
	_, errUnknown := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "nosuchuser", Password: "x"})
	if hmisauth.ErrorMessage(errReal) != hmisauth.ErrorMessage(errUnknown) {
		t.Fatalf("messages differ: %q vs %q", hmisauth.ErrorMessage(errReal), hmisauth.ErrorMessage(errUnknown))
	}
}

func TestUnknownUsernameCostsOneHash(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	before := f.hasher.Hashes()
	f.attempt("jdoe", "wrong")
	real := f.hasher.Hashes() - before
	before = f.hasher.Hashes()
	f.attempt("nosuchuser", "wrong")
	if unknown := f.hasher.Hashes() - before; real != 1 || unknown != 1 {
		t.Fatalf("hashes: real user %d, unknown user %d; want 1 and 1", real, unknown)
	}
}

func TestFiftyParallelWrongGuessesEvaluateOnlyTheThreshold(t *testing.T) {
	for _, username := range []string{"jdoe", "nosuchuser"} {
		t.Run(username, func(t *testing.T) {
			f := newFixture(t)
			f.user("John", "Doe")
			before := f.hasher.Hashes()
			var wg sync.WaitGroup
			codes := make([]string, 50)
			for i := range codes {
				wg.Go(func() { codes[i] = f.attempt(username, "wrong") })
			}
			wg.Wait()
			if got := f.hasher.Hashes() - before; got != 3 {
				t.Errorf("passwords evaluated = %d, want exactly 3", got)
			}
			counts := map[string]int{}
			for _, c := range codes {
				counts[c]++
			}
			if counts[hmisauth.ELoginFailed] != 2 || counts[hmisauth.EAccountLocked] != 48 {
				t.Errorf("answers = %v, want 2 login_failed and 48 account_locked", counts)
			}
			if username == "jdoe" {
				if u := f.reload("jdoe"); u.FailedAttempts != 3 || !u.Locked() {
					t.Errorf("failed_attempts=%d locked=%v", u.FailedAttempts, u.Locked())
				}
			}
		})
	}
}

func TestAutomaticUnlockAfterTheSetTime(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Lockout.AutoUnlockAfter = 15 * time.Minute })
	f.user("John", "Doe")
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	f.clock.Add(14 * time.Minute)
	if got := f.attempt("jdoe", goodPassword); got != hmisauth.EAccountLocked {
		t.Fatalf("before the unlock time: %q", got)
	}
	f.clock.Add(time.Minute)
	if got := f.attempt("jdoe", goodPassword); got != "" {
		t.Fatalf("after the unlock time: %q", got)
	}
}

func TestAdministratorUnlocks(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	f.clock.Add(48 * time.Hour) // no automatic unlock by default
	if got := f.attempt("jdoe", goodPassword); got != hmisauth.EAccountLocked {
		t.Fatalf("still locked expected: %q", got)
	}
	if _, err := f.svc.Unlock(f.ctx, "live", "jdoe"); err != nil {
		t.Fatal(err)
	}
	if got := f.attempt("jdoe", goodPassword); got != "" {
		t.Fatalf("after unlock: %q", got)
	}
}

func TestBlockedAccountsAnswerLoginFailed(t *testing.T) {
	cases := map[string]func(f *fixture){
		"disabled": func(f *fixture) {
			if _, err := f.svc.SetDisabled(f.ctx, "live", "jdoe", true); err != nil {
				f.t.Fatal(err)
			}
		},
		"license expired": func(f *fixture) {
			name, exp := "Hope Shelter", hmisauth.Date("2026-02-28")
			if _, err := f.svc.CreateAgency(f.ctx, "live", auth.AgencyChange{Name: &name, LicenseExpires: &exp}); err != nil {
				f.t.Fatal(err)
			}
			u := f.reload("jdoe")
			a, _ := f.store.AgencyByName(f.ctx, "live", name)
			u.AgencyID = a.ID
			if err := f.store.UpdateUserProfile(f.ctx, u); err != nil {
				f.t.Fatal(err)
			}
		},
		"agreement expired": func(f *fixture) {
			if _, err := f.svc.RecordAgreement(f.ctx, "live", "jdoe", auth.Agreement{Signed: "2025-02-01", Expires: "2026-03-01"}); err != nil {
				f.t.Fatal(err)
			}
		},
		"inactive": func(f *fixture) { f.clock.Add(91 * 24 * time.Hour) },
	}
	for name, block := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.user("John", "Doe")
			block(f)
			_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe", Password: goodPassword})
			wantCode(t, err, hmisauth.ELoginFailed)
			if hmisauth.ErrorMessage(err) != "Login failed!" {
				t.Fatalf("message %q", hmisauth.ErrorMessage(err))
			}
		})
	}
}

func TestLicenseIsValidThroughItsExpiryDate(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	name, exp := "Hope Shelter", hmisauth.Date("2026-03-02") // the fixture's today, in Chicago
	if _, err := f.svc.CreateAgency(f.ctx, "live", auth.AgencyChange{Name: &name, LicenseExpires: &exp}); err != nil {
		t.Fatal(err)
	}
	u := f.reload("jdoe")
	a, _ := f.store.AgencyByName(f.ctx, "live", name)
	u.AgencyID = a.ID
	if err := f.store.UpdateUserProfile(f.ctx, u); err != nil {
		t.Fatal(err)
	}
	if got := f.attempt("jdoe", goodPassword); got != "" {
		t.Fatalf("on the expiry date: %q", got)
	}
	f.clock.Add(24 * time.Hour)
	if got := f.attempt("jdoe", goodPassword); got != hmisauth.ELoginFailed {
		t.Fatalf("the day after: %q", got)
	}
}

func TestSitesNeverShareAccounts(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "training", Username: "jdoe", Password: goodPassword})
	wantCode(t, err, hmisauth.ELoginFailed)
	res := f.login("jdoe", goodPassword)
	_, err = f.svc.Authenticate(f.ctx, "training", res.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
}

func TestEmptyFieldsAreNamed(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Password: "x"})
	if e := hmisauth.AsError(err); e == nil || e.Field != "username" {
		t.Fatalf("empty username: %v", err)
	}
	_, err = f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe"})
	if e := hmisauth.AsError(err); e == nil || e.Field != "password" {
		t.Fatalf("empty password: %v", err)
	}
}

func TestRehashOnLoginWhenCostRises(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	old := f.reload("jdoe").PasswordHash
	stronger := testHashOptions
	stronger.Iterations = 2
	svc := auth.NewService(auth.Deps{Store: f.store, Clock: f.clock, Hasher: newHasher(stronger),
		Sites: []*hmisauth.Site{f.live}, Letters: f.letters, PublicURL: publicURL})
	if _, err := svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	now := f.reload("jdoe").PasswordHash
	if now == old || !strings.Contains(now, "t=2") {
		t.Fatalf("hash not upgraded: %s", now)
	}
	if got := f.attempt("jdoe", goodPassword); got != "" {
		t.Fatalf("sign-in with the upgraded hash: %q", got)
	}
}
