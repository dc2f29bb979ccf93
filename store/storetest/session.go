package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// wantSessions checks, for each token, whether its session still exists.
func wantSessions(t *testing.T, s hmisauth.Store, want map[string]bool) {
	t.Helper()
	for token, alive := range want {
		_, err := s.SessionByToken(t.Context(), tokenHash(token))
		switch code := hmisauth.ErrorCode(err); {
		case alive && err != nil:
			t.Errorf("session %q: %v, want it alive", token, err)
		case !alive && code != hmisauth.ENOTFOUND:
			t.Errorf("session %q: error %v, want it ended (not_found)", token, err)
		}
	}
}

var sessionTests = []test{
	{"CreateAndFindByToken", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "tok", false)
		got, err := s.SessionByToken(t.Context(), tokenHash("tok"))
		must(t, err)
		equal(t, "Session", got, sess)
		if !bytes.Equal(got.TokenHash, tokenHash("tok")) {
			t.Errorf("TokenHash = %x", got.TokenHash)
		}
	}},
	{"ZeroReauthRoundTripsAsZero", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := &hmisauth.Session{Site: live, UserID: u.ID, TokenHash: tokenHash("tok"),
			CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		must(t, s.CreateSession(t.Context(), sess, false))
		got, err := s.SessionByToken(t.Context(), tokenHash("tok"))
		must(t, err)
		equal(t, "Session", got, sess)
	}},
	{"FindByIDUntilItEnds", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "tok", false)
		got, err := s.Session(t.Context(), sess.ID)
		must(t, err)
		equal(t, "Session", got, sess)
		must(t, s.DeleteSession(t.Context(), sess.ID, true))
		_, err = s.Session(t.Context(), sess.ID)
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"UnknownTokenIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "tok", false)
		_, err := s.SessionByToken(t.Context(), tokenHash("other"))
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"SessionAndUserAsTheTwoReads", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Shelter", 5)
		u := newUser(t, s, live, "jdoe", inAgency(a))
		other := newUser(t, s, live, "other")
		newSession(t, s, other, "theirs", false)
		newSession(t, s, u, "tok", false)
		bye := newSession(t, s, u, "bye", false)
		check := func(what string) *hmisauth.User {
			t.Helper()
			sess, got, err := s.SessionAndUser(t.Context(), tokenHash("tok"))
			must(t, err)
			want, err := s.SessionByToken(t.Context(), tokenHash("tok"))
			must(t, err)
			equal(t, what+" Session", sess, want)
			equal(t, what+" User", got, reload(t, s, u))
			return got
		}
		check("first")
		// A lock from failed sign-ins shows, as UserByID shows it.
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
		}
		if got := check("locked"); !got.Locked() || got.FailedAttempts != 3 || !got.LockedAt.Equal(at(3)) {
			t.Errorf("locked user = %d attempts, locked at %v", got.FailedAttempts, got.LockedAt)
		}
		_, _, err := s.SessionAndUser(t.Context(), tokenHash("unknown"))
		wantCode(t, err, hmisauth.ENOTFOUND)
		must(t, s.DeleteSession(t.Context(), bye.ID, true))
		_, _, err = s.SessionAndUser(t.Context(), tokenHash("bye"))
		wantCode(t, err, hmisauth.ENOTFOUND)
		// Disabling the user ends its sessions: the token finds nothing, the other user's is kept.
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(10)))
		_, _, err = s.SessionAndUser(t.Context(), tokenHash("tok"))
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, got, err := s.SessionAndUser(t.Context(), tokenHash("theirs"))
		must(t, err)
		equal(t, "other User", got, reload(t, s, other))
	}},
	{"TokenHashIsUnique", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "tok", false)
		sess := &hmisauth.Session{Site: live, UserID: u.ID, TokenHash: tokenHash("tok"), CreatedAt: t0}
		wantCode(t, s.CreateSession(t.Context(), sess, false), hmisauth.ECONFLICT)
	}},
	{"SessionNeedsAnEnabledUserOfTheSite", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for _, sess := range []*hmisauth.Session{
			{Site: live, UserID: 999, TokenHash: tokenHash("a"), CreatedAt: t0},
			{Site: training, UserID: u.ID, TokenHash: tokenHash("b"), CreatedAt: t0},
		} {
			wantCode(t, s.CreateSession(t.Context(), sess, false), hmisauth.ENOTFOUND)
		}
		// A sign-in that raced an administrator's disable must not leave a session behind.
		must(t, s.SetDisabled(t.Context(), u.ID, true, t0))
		sess := &hmisauth.Session{Site: live, UserID: u.ID, TokenHash: tokenHash("c"), CreatedAt: t0}
		wantCode(t, s.CreateSession(t.Context(), sess, false), hmisauth.EFORBIDDEN)
		wantSessions(t, s, map[string]bool{"a": false, "b": false, "c": false})
	}},
	{"SingleSessionEndsTheUsersOthers", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "desk", false)
		newSession(t, s, u, "laptop", false)
		newSession(t, s, other, "theirs", false)
		wantSessions(t, s, map[string]bool{"desk": true, "laptop": true, "theirs": true})
		newSession(t, s, u, "kiosk", true)
		wantSessions(t, s, map[string]bool{"desk": false, "laptop": false, "kiosk": true, "theirs": true})
	}},
	{"TouchRecordsUseAndNeverGoesBack", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "tok", false)
		must(t, s.TouchSession(t.Context(), sess.ID, at(60)))
		wantLastSeen(t, s, "tok", at(60))
		must(t, s.TouchSession(t.Context(), sess.ID, at(30))) // a slower parallel request
		wantLastSeen(t, s, "tok", at(60))
		wantCode(t, s.TouchSession(t.Context(), sess.ID+1000, at(90)), hmisauth.ENOTFOUND)
	}},
	{"DeleteEndsOneSessionAndIsIdempotent", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		a := newSession(t, s, u, "a", false)
		newSession(t, s, u, "b", false)
		must(t, s.DeleteSession(t.Context(), a.ID, true))
		wantSessions(t, s, map[string]bool{"a": false, "b": true})
		must(t, s.DeleteSession(t.Context(), a.ID, true)) // two tabs signing out at once
	}},
	{"DeleteUserSessionsKeepsOne", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "a", false)
		b := newSession(t, s, u, "b", false)
		newSession(t, s, u, "c", false)
		newSession(t, s, other, "o", false)
		must(t, s.DeleteUserSessions(t.Context(), u.ID, b.ID, hmisauth.EndedByUser, t0))
		wantSessions(t, s, map[string]bool{"a": false, "b": true, "c": false, "o": true})
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, t0))
		wantSessions(t, s, map[string]bool{"b": false, "o": true})
	}},
	{"DeleteExpiredRemovesPastAbsoluteOrIdle", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		now := t0.Add(10 * time.Hour)
		idleBefore := now.Add(-30 * time.Minute)
		for token, times := range map[string][2]time.Time{ // last seen, expires
			"live":       {now.Add(-time.Minute), now.Add(time.Hour)},
			"idle-edge":  {idleBefore, now.Add(time.Hour)},
			"idle":       {idleBefore.Add(-time.Microsecond), now.Add(time.Hour)},
			"at-limit":   {now, now},
			"past-limit": {now, now.Add(-time.Second)},
		} {
			sess := &hmisauth.Session{Site: live, UserID: u.ID, TokenHash: tokenHash(token),
				CreatedAt: t0, LastSeenAt: times[0], ExpiresAt: times[1]}
			must(t, s.CreateSession(t.Context(), sess, false))
		}
		n, err := s.DeleteExpiredSessions(t.Context(), now, idleBefore)
		must(t, err)
		if n != 3 {
			t.Errorf("DeleteExpiredSessions = %d, want 3", n)
		}
		wantSessions(t, s, map[string]bool{
			"live": true, "idle-edge": true, "idle": false, "at-limit": false, "past-limit": false})
		n, err = s.DeleteExpiredSessions(t.Context(), now, idleBefore)
		must(t, err)
		if n != 0 {
			t.Errorf("second DeleteExpiredSessions = %d, want 0", n)
		}
	}},
}

func wantLastSeen(t *testing.T, s hmisauth.Store, token string, want time.Time) {
	t.Helper()
	got, err := s.SessionByToken(t.Context(), tokenHash(token))
	must(t, err)
	equal(t, "LastSeenAt", got.LastSeenAt, want)
}
