package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// ttl is how long the suite's reset links live.
const ttl = 15 * time.Minute

// startReset stores a token for u made at t0+sec, with its e-mail.
func startReset(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string, sec int) (*hmisauth.ResetToken, *hmisauth.Message) {
	t.Helper()
	rt := &hmisauth.ResetToken{UserID: u.ID, Site: u.Site, TokenHash: tokenHash(token), CreatedAt: at(sec), ExpiresAt: at(sec).Add(ttl)}
	m := message(u.Email, hmisauth.MailReset, sec)
	must(t, s.StartReset(t.Context(), rt, m))
	if m.ID == 0 {
		t.Fatalf("StartReset(%s) left the message ID zero", token)
	}
	return rt, m
}

func wantLive(t *testing.T, s hmisauth.Store, token string, now time.Time, want *hmisauth.ResetToken) {
	t.Helper()
	got, err := s.ResetToken(t.Context(), tokenHash(token), now)
	if want == nil {
		if e := wantCode(t, err, hmisauth.ENOTFOUND); e.Message == "" {
			t.Error("a dead reset token's error has no message for the user")
		}
		return
	}
	must(t, err)
	equal(t, "ResetToken("+token+")", got, want)
}

// passwordChange is a reset's change of u's password to hash at now, with its notice.
func passwordChange(u *hmisauth.User, hash string, now time.Time) hmisauth.PasswordChange {
	m := message(u.Email, hmisauth.MailPasswordChanged, 0)
	m.CreatedAt = now
	return hmisauth.PasswordChange{UserID: u.ID, Hash: hash, At: now, History: 5, Mail: m}
}

// wantUntouched checks a failed reset changed nothing of u: password, history, sessions, lockout.
func wantUntouched(t *testing.T, s hmisauth.Store, u *hmisauth.User, sessions map[string]bool, attempts int) {
	t.Helper()
	got := reload(t, s, u)
	if got.PasswordHash != u.PasswordHash || !got.PasswordChangedAt.Equal(u.PasswordChangedAt) || got.FailedAttempts != attempts {
		t.Errorf("a refused reset changed the user: hash %q, changed %v, %d attempts", got.PasswordHash, got.PasswordChangedAt, got.FailedAttempts)
	}
	wantHistory(t, s, u, 5)
	wantSessions(t, s, sessions)
}

var resetTests = []test{
	{"StartResetStoresTheTokenAndQueuesItsMail", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		rt, m := startReset(t, s, u, "link", 1)
		wantLive(t, s, "link", at(1), rt)
		wantOutbox(t, s, m)
		last, err := s.LastResetAt(t.Context(), u.ID, at(2))
		must(t, err)
		equal(t, "LastResetAt", last, at(1))
	}},
	{"StartResetWithoutMailQueuesNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		rt := &hmisauth.ResetToken{UserID: u.ID, Site: live, TokenHash: tokenHash("link"), CreatedAt: t0, ExpiresAt: t0.Add(ttl)}
		must(t, s.StartReset(t.Context(), rt, nil))
		wantLive(t, s, "link", t0, rt)
		wantOutbox(t, s)
	}},
	{"StartResetForNoSuchUserOfTheSiteChangesNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for _, rt := range []*hmisauth.ResetToken{
			{UserID: 999, Site: live, TokenHash: tokenHash("a"), CreatedAt: t0, ExpiresAt: t0.Add(ttl)},
			{UserID: u.ID, Site: training, TokenHash: tokenHash("b"), CreatedAt: t0, ExpiresAt: t0.Add(ttl)},
		} {
			wantCode(t, s.StartReset(t.Context(), rt, message("x@example.org", hmisauth.MailReset, 0)), hmisauth.ENOTFOUND)
		}
		wantLive(t, s, "a", t0, nil)
		wantLive(t, s, "b", t0, nil)
		wantOutbox(t, s)
	}},
	{"TokenDiesAtItsExpiry", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		rt, _ := startReset(t, s, u, "link", 0)
		wantLive(t, s, "link", rt.ExpiresAt.Add(-time.Microsecond), rt)
		wantLive(t, s, "link", rt.ExpiresAt, nil)
		last, err := s.LastResetAt(t.Context(), u.ID, rt.ExpiresAt)
		must(t, err)
		equal(t, "LastResetAt after expiry", last, time.Time{})
	}},
	{"UnknownTokenIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		startReset(t, s, u, "link", 0)
		wantLive(t, s, "other", t0, nil)
		wantCode(t, s.CompleteReset(t.Context(), tokenHash("other"), t0, passwordChange(u, "new", t0)), hmisauth.ENOTFOUND)
	}},
	{"NewerLinkSupersedesTheOlder", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		startReset(t, s, u, "first", 1)
		otherToken, _ := startReset(t, s, other, "others", 1)
		second, _ := startReset(t, s, u, "second", 2)
		wantLive(t, s, "first", at(3), nil)
		wantLive(t, s, "second", at(3), second)
		wantLive(t, s, "others", at(3), otherToken)
		newSession(t, s, u, "sess", false)
		err := s.CompleteReset(t.Context(), tokenHash("first"), at(3), passwordChange(u, "new", at(3)))
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantUntouched(t, s, u, map[string]bool{"sess": true}, 0)
		last, err := s.LastResetAt(t.Context(), u.ID, at(3))
		must(t, err)
		equal(t, "LastResetAt", last, at(2))
	}},
	{"CompleteResetSetsThePasswordOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "a", false)
		newSession(t, s, u, "b", false)
		reserve(t, s, "jdoe", 3, 1)
		_, m := startReset(t, s, u, "link", 2)
		c := passwordChange(u, "new", at(3))
		must(t, s.CompleteReset(t.Context(), tokenHash("link"), at(3), c))
		got := reload(t, s, u)
		if got.PasswordHash != "new" || !got.PasswordChangedAt.Equal(at(3)) || got.FailedAttempts != 0 {
			t.Errorf("after the reset: hash %q, changed %v, %d attempts", got.PasswordHash, got.PasswordChangedAt, got.FailedAttempts)
		}
		wantHistory(t, s, u, 5, u.PasswordHash)
		wantSessions(t, s, map[string]bool{"a": false, "b": false})
		wantLive(t, s, "link", at(3), nil)
		if c.Mail.ID == 0 {
			t.Error("CompleteReset left the notice's ID zero")
		}
		wantOutbox(t, s, c.Mail, m)
		err := s.CompleteReset(t.Context(), tokenHash("link"), at(4), passwordChange(u, "again", at(4)))
		wantCode(t, err, hmisauth.ENOTFOUND)
		if got := reload(t, s, u).PasswordHash; got != "new" {
			t.Errorf("a used link set the password again: %q", got)
		}
		wantOutbox(t, s, c.Mail, m)
	}},
	{"ExpiredLinkChangesNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "a", false)
		reserve(t, s, "jdoe", 3, 1)
		rt, m := startReset(t, s, u, "link", 2)
		err := s.CompleteReset(t.Context(), tokenHash("link"), rt.ExpiresAt, passwordChange(u, "new", rt.ExpiresAt))
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantUntouched(t, s, u, map[string]bool{"a": true}, 1)
		wantOutbox(t, s, m)
	}},
	{"LinkOfAnotherUserChangesNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, other, "o", false)
		rt, m := startReset(t, s, u, "link", 1)
		err := s.CompleteReset(t.Context(), tokenHash("link"), at(2), passwordChange(other, "new", at(2)))
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantUntouched(t, s, other, map[string]bool{"o": true}, 0)
		wantLive(t, s, "link", at(2), rt)
		wantOutbox(t, s, m)
	}},
	{"AnyPasswordChangeKillsTheLinks", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		startReset(t, s, u, "link", 1)
		otherToken, _ := startReset(t, s, other, "others", 1)
		change(t, s, u, "changed", 5, 2)
		wantLive(t, s, "link", at(3), nil)
		wantLive(t, s, "others", at(3), otherToken)
		last, err := s.LastResetAt(t.Context(), u.ID, at(3))
		must(t, err)
		equal(t, "LastResetAt", last, time.Time{})
		err = s.CompleteReset(t.Context(), tokenHash("link"), at(3), passwordChange(u, "new", at(3)))
		wantCode(t, err, hmisauth.ENOTFOUND)
		if got := reload(t, s, u).PasswordHash; got != "changed" {
			t.Errorf("a link from before the change set the password: %q", got)
		}
	}},
	{"SetPasswordQueuesItsMail", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := passwordChange(u, "new", at(1))
		must(t, s.SetPassword(t.Context(), c))
		if c.Mail.ID == 0 {
			t.Fatal("SetPassword left the notice's ID zero")
		}
		wantOutbox(t, s, c.Mail)
		c = passwordChange(&hmisauth.User{ID: 999}, "x", at(2))
		wantCode(t, s.SetPassword(t.Context(), c), hmisauth.ENOTFOUND)
		if n := len(outbox(t, s)); n != 1 {
			t.Errorf("a refused SetPassword queued its notice: %d messages", n)
		}
	}},
	{"LastResetAtIsZeroWithoutALink", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		last, err := s.LastResetAt(t.Context(), u.ID, t0)
		must(t, err)
		equal(t, "LastResetAt", last, time.Time{})
	}},
}

// These are the reset's atomic steps under parallel calls.
var resetConcurrencyTests = []test{
	{"TwentyParallelResetsWithOneLinkSucceedOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		startReset(t, s, u, "link", 1)
		errs := parallel(20, func(i int) error {
			return s.CompleteReset(t.Context(), tokenHash("link"), at(2), passwordChange(u, fmt.Sprint("new", i), at(2)))
		})
		winner := -1
		for i, err := range errs {
			switch hmisauth.ErrorCode(err) {
			case "":
				if winner >= 0 {
					t.Errorf("resets %d and %d both succeeded with one link", winner, i)
				}
				winner = i
			case hmisauth.ENOTFOUND:
			default:
				t.Errorf("CompleteReset: %v, want success or not_found", err)
			}
		}
		if winner < 0 {
			t.Fatal("none of 20 parallel resets succeeded")
		}
		if got := reload(t, s, u).PasswordHash; got != fmt.Sprint("new", winner) {
			t.Errorf("PasswordHash = %q, want the winner's new%d", got, winner)
		}
		wantHistory(t, s, u, 5, u.PasswordHash)
		if n := len(outbox(t, s)); n != 2 {
			t.Errorf("%d messages queued (reset link and notices), want 2: one notice", n)
		}
	}},
	{"ParallelResetRequestsLeaveOneLiveLink", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		wantNoErrors(t, parallel(20, func(i int) error {
			return s.StartReset(t.Context(), &hmisauth.ResetToken{UserID: u.ID, Site: live,
				TokenHash: tokenHash(fmt.Sprint("link", i)), CreatedAt: at(i), ExpiresAt: at(i).Add(ttl)}, nil)
		}))
		alive := 0
		for i := range 20 {
			if _, err := s.ResetToken(t.Context(), tokenHash(fmt.Sprint("link", i)), at(20)); err == nil {
				alive++
			}
		}
		if alive != 1 {
			t.Errorf("%d links alive after 20 parallel requests, want 1", alive)
		}
	}},
}
