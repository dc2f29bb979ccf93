package auth_test

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func TestSessionIdleTimeout(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	f.clock.Add(29 * time.Minute)
	if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
		t.Fatalf("within the idle time: %v", err)
	}
	f.clock.Add(29 * time.Minute) // use above restarted the idle time
	if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
		t.Fatalf("used 29 minutes ago: %v", err)
	}
	f.clock.Add(31 * time.Minute)
	_, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	wantCode(t, err, hmisauth.ESessionExpired)
	_, err = f.svc.Authenticate(f.ctx, "live", res.Token) // and it is gone
	wantCode(t, err, hmisauth.EUnauthorized)
}

func TestSessionAbsoluteLimit(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	for range 24 { // active every 25 minutes, for 10 hours
		f.clock.Add(25 * time.Minute)
		if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(2 * time.Hour)
	_, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	wantCode(t, err, hmisauth.ESessionExpired)
}

func TestLogoutEndsTheSession(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	if err := f.svc.Logout(f.ctx, res.Principal); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
}

func TestEverySignInGetsANewToken(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	if a, b := f.login("jdoe", goodPassword), f.login("jdoe", goodPassword); a.Token == b.Token {
		t.Fatal("two sign-ins share a token")
	}
}

// Anyone can type three wrong passwords for a username: the lock that follows stops new
// sign-ins, but must not throw the account's owner out of the session they have open.
func TestALockLeavesOpenSessionsAlone(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	if !f.reload("jdoe").Locked() {
		t.Fatal("three wrong passwords did not lock")
	}
	if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
		t.Fatalf("the open session after the lock: %v", err)
	}
	_, err := f.loginWith("jdoe", goodPassword, "")
	wantCode(t, err, hmisauth.EAccountLocked)
}

func TestDisableEndsSessions(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	if _, err := f.svc.SetDisabled(f.ctx, "live", "jdoe", true); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
}

func TestPendingActionsBlockEverythingElse(t *testing.T) {
	f := newFixture(t)
	c := f.create(auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe"})
	p := f.login("jdoe", c.TemporaryPassword).Principal
	wantCode(t, p.Require(""), hmisauth.EActionRequired)
	wantCode(t, p.Require(hmisauth.ActionChangePassword), hmisauth.EActionRequired)
	if err := p.Require(hmisauth.ActionAcceptTerms); err != nil {
		t.Fatal(err)
	}
}
