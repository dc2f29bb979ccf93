package auth_test

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// "Stay signed in" restarts the idle time from the moment it is pressed, even seconds after a
// page load (which records use at most once a minute), and never moves the absolute end.
func TestStaySignedInRestartsTheIdleTimeNow(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	f.clock.Add(40 * time.Second)
	p, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	if err != nil {
		t.Fatal(err)
	}
	if want := res.Principal.IdleExpiresAt; !p.IdleExpiresAt.Equal(want) {
		t.Fatalf("a page load 40 s in moved the idle time-out to %s (want it kept at %s)", p.IdleExpiresAt, want)
	}
	extended, err := f.svc.ExtendSession(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if want := now.Add(30 * time.Minute); !extended.IdleExpiresAt.Equal(want) {
		t.Errorf("extended idle time-out %s, want %s", extended.IdleExpiresAt, want)
	}
	if !extended.ExpiresAt.Equal(res.Principal.ExpiresAt) {
		t.Errorf("the absolute end moved from %s to %s", res.Principal.ExpiresAt, extended.ExpiresAt)
	}
	// 30 minutes after the login the session would have timed out without the extension.
	f.clock.Add(29*time.Minute + 50*time.Second)
	if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
		t.Fatalf("after the original idle deadline: %v", err)
	}

	// Extending near the absolute end gives no more than the absolute end.
	for f.clock.Now().Before(res.Principal.ExpiresAt.Add(-25 * time.Minute)) {
		f.clock.Add(20 * time.Minute)
		if p, err = f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
			t.Fatal(err)
		}
	}
	if extended, err = f.svc.ExtendSession(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	if !extended.ExpiresAt.Equal(res.Principal.ExpiresAt) {
		t.Errorf("the absolute end moved to %s", extended.ExpiresAt)
	}
	if extended.IdleExpiresAt.Before(extended.ExpiresAt) {
		t.Fatalf("the test meant to extend within 30 minutes of the end, at %s", f.clock.Now())
	}
	f.clock.Add(res.Principal.ExpiresAt.Sub(f.clock.Now()))
	_, err = f.svc.Authenticate(f.ctx, "live", res.Token)
	wantCode(t, err, hmisauth.ESessionExpired)
}

// A session that ended in another tab cannot be extended.
func TestStaySignedInAfterSignOutRefuses(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	if err := f.svc.Logout(f.ctx, res.Principal); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.ExtendSession(f.ctx, res.Principal)
	wantCode(t, err, hmisauth.EUnauthorized)
}
