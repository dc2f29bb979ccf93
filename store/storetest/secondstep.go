package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// rememberDevice remembers a browser of u by token until expires.
func rememberDevice(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string, expires time.Time) *hmisauth.RememberedDevice {
	t.Helper()
	d := &hmisauth.RememberedDevice{UserID: u.ID, TokenHash: tokenHash(token), CreatedAt: t0, ExpiresAt: expires,
		UserAgent: "Mozilla/5.0 (test)"}
	must(t, s.RememberDevice(t.Context(), d))
	if d.ID == 0 {
		t.Fatalf("RememberDevice(%s) left ID zero", token)
	}
	return d
}

func wantRemembered(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string, now time.Time, want bool) {
	t.Helper()
	got, err := s.DeviceRemembered(t.Context(), u.ID, tokenHash(token), now)
	must(t, err)
	if got != want {
		t.Errorf("DeviceRemembered(%s, %s, %v) = %v, want %v", u.Username, token, now, got, want)
	}
}

// challenge stores a sign-in of u waiting for its second step, made at t0+sec and expiring 5
// minutes later.
func challenge(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string, sec int) *hmisauth.LoginChallenge {
	t.Helper()
	c := &hmisauth.LoginChallenge{Site: u.Site, UserID: u.ID, TokenHash: tokenHash(token),
		CreatedAt: at(sec), ExpiresAt: at(sec).Add(5 * time.Minute), ClientAddr: "192.0.2.10", UserAgent: "Mozilla/5.0 (test)"}
	must(t, s.CreateLoginChallenge(t.Context(), c))
	if c.ID == 0 {
		t.Fatalf("CreateLoginChallenge(%s) left ID zero", token)
	}
	return c
}

// wantChallenge checks the challenge of token is c at now (nil: not found).
func wantChallenge(t *testing.T, s hmisauth.Store, token string, now time.Time, c *hmisauth.LoginChallenge) {
	t.Helper()
	got, err := s.LoginChallenge(t.Context(), tokenHash(token), now)
	if c == nil {
		if e := wantCode(t, err, hmisauth.ENOTFOUND); e.Message == "" {
			t.Error("a dead challenge's error has no message for the user")
		}
		return
	}
	must(t, err)
	equal(t, "LoginChallenge("+token+")", got, c)
}

var secondStepTests = []test{
	{"RememberedDeviceIsKnownUntilItExpires", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		d := rememberDevice(t, s, u, "desk", at(3600))
		wantRemembered(t, s, u, "desk", d.ExpiresAt.Add(-time.Microsecond), true)
		wantRemembered(t, s, u, "desk", d.ExpiresAt, false)
		wantRemembered(t, s, u, "laptop", at(1), false)
		wantRemembered(t, s, other, "desk", at(1), false) // the cookie of another user's browser
	}},
	{"RememberDeviceTokenIsUnique", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		rememberDevice(t, s, u, "desk", at(3600))
		d := &hmisauth.RememberedDevice{UserID: u.ID, TokenHash: tokenHash("desk"), CreatedAt: t0, ExpiresAt: at(7200)}
		wantCode(t, s.RememberDevice(t.Context(), d), hmisauth.ECONFLICT)
		d = &hmisauth.RememberedDevice{UserID: 999, TokenHash: tokenHash("new"), CreatedAt: t0, ExpiresAt: at(7200)}
		wantCode(t, s.RememberDevice(t.Context(), d), hmisauth.ENOTFOUND)
	}},
	{"PasswordChangeForgetsRememberedDevices", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		rememberDevice(t, s, u, "desk", at(3600))
		rememberDevice(t, s, u, "laptop", at(3600))
		rememberDevice(t, s, other, "theirs", at(3600))
		change(t, s, u, "h1", 5, 1)
		wantRemembered(t, s, u, "desk", at(2), false)
		wantRemembered(t, s, u, "laptop", at(2), false)
		wantRemembered(t, s, other, "theirs", at(2), true)
	}},
	{"ResetForgetsRememberedDevices", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		rememberDevice(t, s, u, "desk", at(3600))
		startReset(t, s, u, "link", 1)
		must(t, s.CompleteReset(t.Context(), tokenHash("link"), at(2), passwordChange(u, "new", at(2))))
		wantRemembered(t, s, u, "desk", at(3), false)
	}},
	{"DisableForgetsRememberedDevices", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		rememberDevice(t, s, u, "desk", at(3600))
		rememberDevice(t, s, other, "theirs", at(3600))
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(1)))
		must(t, s.SetDisabled(t.Context(), u.ID, false, at(2)))
		wantRemembered(t, s, u, "desk", at(3), false)
		wantRemembered(t, s, other, "theirs", at(3), true)
	}},
	{"ChallengeRoundTrips", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := challenge(t, s, u, "pending", 1)
		wantChallenge(t, s, "pending", at(2), c)
		withData := &hmisauth.LoginChallenge{Site: live, UserID: u.ID, TokenHash: tokenHash("passkey"),
			CreatedAt: at(1), ExpiresAt: at(301), WebAuthn: []byte(`{"challenge":"abc"}`)}
		must(t, s.CreateLoginChallenge(t.Context(), withData))
		wantChallenge(t, s, "passkey", at(2), withData)
	}},
	{"ExpiredChallengeIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := challenge(t, s, u, "pending", 1)
		wantChallenge(t, s, "pending", c.ExpiresAt.Add(-time.Microsecond), c)
		wantChallenge(t, s, "pending", c.ExpiresAt, nil)
		wantChallenge(t, s, "unknown", at(2), nil)
	}},
	{"ChallengeNeedsAUserOfTheSite", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for _, c := range []*hmisauth.LoginChallenge{
			{Site: live, UserID: 999, TokenHash: tokenHash("a"), CreatedAt: t0, ExpiresAt: at(300)},
			{Site: training, UserID: u.ID, TokenHash: tokenHash("b"), CreatedAt: t0, ExpiresAt: at(300)},
		} {
			wantCode(t, s.CreateLoginChallenge(t.Context(), c), hmisauth.ENOTFOUND)
		}
		wantChallenge(t, s, "a", t0, nil)
		wantChallenge(t, s, "b", t0, nil)
	}},
	{"ChallengeTokenIsUnique", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := challenge(t, s, u, "pending", 1)
		dup := &hmisauth.LoginChallenge{Site: live, UserID: u.ID, TokenHash: tokenHash("pending"), CreatedAt: at(2), ExpiresAt: at(302)}
		wantCode(t, s.CreateLoginChallenge(t.Context(), dup), hmisauth.ECONFLICT)
		wantChallenge(t, s, "pending", at(2), c)
	}},
	{"SetChallengeWebAuthnStoresTheData", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := challenge(t, s, u, "pending", 1)
		must(t, s.SetChallengeWebAuthn(t.Context(), c.ID, []byte(`{"challenge":"xyz"}`)))
		c.WebAuthn = []byte(`{"challenge":"xyz"}`)
		wantChallenge(t, s, "pending", at(2), c)
		wantCode(t, s.SetChallengeWebAuthn(t.Context(), c.ID+1000, []byte("x")), hmisauth.ENOTFOUND)
	}},
	{"EndLoginChallengeEndsItOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := challenge(t, s, u, "pending", 1)
		other := challenge(t, s, u, "other-tab", 1)
		for i, want := range []bool{true, false} {
			got, err := s.EndLoginChallenge(t.Context(), c.ID)
			must(t, err)
			if got != want {
				t.Errorf("EndLoginChallenge, call %d = %v, want %v", i+1, got, want)
			}
		}
		wantChallenge(t, s, "pending", at(2), nil)
		wantChallenge(t, s, "other-tab", at(2), other)
	}},
	{"DeleteExpiredSessionsDropsExpiredChallengesAndDevices", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		now := at(3600)
		for token, expires := range map[string]time.Time{"gone": now, "live": now.Add(time.Microsecond)} {
			rememberDevice(t, s, u, token, expires)
			must(t, s.CreateLoginChallenge(t.Context(), &hmisauth.LoginChallenge{Site: live, UserID: u.ID,
				TokenHash: tokenHash(token), CreatedAt: t0, ExpiresAt: expires}))
		}
		sess := &hmisauth.Session{Site: live, UserID: u.ID, TokenHash: tokenHash("expired"),
			CreatedAt: t0, LastSeenAt: t0, ExpiresAt: now}
		must(t, s.CreateSession(t.Context(), sess, false))
		n, err := s.DeleteExpiredSessions(t.Context(), now, time.Time{})
		must(t, err)
		if n != 1 {
			t.Errorf("DeleteExpiredSessions = %d, want 1: it counts sessions only", n)
		}
		// Asked at an earlier time, what was deleted is gone and what lives is still there.
		wantRemembered(t, s, u, "gone", t0, false)
		wantRemembered(t, s, u, "live", t0, true)
		wantChallenge(t, s, "gone", t0, nil)
		if _, err := s.LoginChallenge(t.Context(), tokenHash("live"), t0); err != nil {
			t.Errorf("the live challenge: %v", err)
		}
	}},
}
