package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// wantReasons checks, for each token, why its session was ended: "" for no reason kept.
func wantReasons(t *testing.T, s hmisauth.Store, want map[string]string) {
	t.Helper()
	for token, reason := range want {
		got, err := s.SessionEndReason(t.Context(), tokenHash(token), t0)
		switch {
		case reason == "" && hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND:
			t.Errorf("SessionEndReason(%q) = %q, %v; want none (not_found)", token, got, err)
		case reason != "" && (err != nil || got != reason):
			t.Errorf("SessionEndReason(%q) = %q, %v; want %q", token, got, err, reason)
		}
	}
}

// sessionAt creates a session of u made at t0+sec.
func sessionAt(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string, sec int) *hmisauth.Session {
	t.Helper()
	sess := &hmisauth.Session{Site: u.Site, UserID: u.ID, TokenHash: tokenHash(token),
		CreatedAt: at(sec), LastSeenAt: at(sec), ExpiresAt: at(sec).Add(12 * time.Hour), ReauthAt: at(sec),
		ClientAddr: "192.0.2.10", UserAgent: "Mozilla/5.0 (test " + token + ")"}
	must(t, s.CreateSession(t.Context(), sess, false))
	return sess
}

var sessionEndTests = []test{
	{"DeleteUserSessionsKeepsTheReason", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "a", false)
		b := newSession(t, s, u, "b", false)
		newSession(t, s, u, "c", false)
		newSession(t, s, other, "o", false)
		must(t, s.DeleteUserSessions(t.Context(), u.ID, b.ID, hmisauth.EndedByUser, t0))
		wantSessions(t, s, map[string]bool{"a": false, "b": true, "c": false, "o": true})
		wantReasons(t, s, map[string]string{"a": hmisauth.EndedByUser, "b": "", "c": hmisauth.EndedByUser, "o": ""})
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedLocked, t0))
		wantReasons(t, s, map[string]string{"a": hmisauth.EndedByUser, "b": hmisauth.EndedLocked, "o": ""})
	}},
	{"SignOutAndTimeOutLeaveNoReason", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		out := newSession(t, s, u, "signed-out", false)
		sess := &hmisauth.Session{Site: live, UserID: u.ID, TokenHash: tokenHash("timed-out"),
			CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(60)}
		must(t, s.CreateSession(t.Context(), sess, false))
		must(t, s.DeleteSession(t.Context(), out.ID, true))
		n, err := s.DeleteExpiredSessions(t.Context(), at(60), time.Time{})
		must(t, err)
		if n != 1 {
			t.Errorf("DeleteExpiredSessions = %d, want 1", n)
		}
		wantSessions(t, s, map[string]bool{"signed-out": false, "timed-out": false})
		wantReasons(t, s, map[string]string{"signed-out": "", "timed-out": "", "never-existed": ""})
	}},
	{"EmptyReasonIsRefused", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "a", false)
		wantCode(t, s.DeleteUserSessions(t.Context(), u.ID, 0, "", t0), hmisauth.EINVALID)
		wantCode(t, s.EndUserSession(t.Context(), u.ID, sess.ID, "", t0), hmisauth.EINVALID)
		wantSessions(t, s, map[string]bool{"a": true})
	}},
	{"SingleSessionLeavesReasonElsewhere", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "desk", false)
		newSession(t, s, other, "theirs", false)
		newSession(t, s, u, "kiosk", true)
		wantReasons(t, s, map[string]string{"desk": hmisauth.EndedElsewhere, "kiosk": "", "theirs": ""})
	}},
	{"PasswordChangeLeavesReasonPasswordChanged", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		mine := newSession(t, s, u, "mine", false)
		newSession(t, s, u, "desk", false)
		newSession(t, s, other, "theirs", false)
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{
			UserID: u.ID, Hash: "h1", At: at(1), History: 5, KeepSessionID: mine.ID}))
		wantSessions(t, s, map[string]bool{"mine": true, "desk": false, "theirs": true})
		wantReasons(t, s, map[string]string{"mine": "", "desk": hmisauth.EndedPasswordChanged, "theirs": ""})
	}},
	{"ResetLeavesReasonPasswordChanged", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "desk", false)
		startReset(t, s, u, "link", 1)
		must(t, s.CompleteReset(t.Context(), tokenHash("link"), at(2), passwordChange(u, "new", at(2))))
		wantReasons(t, s, map[string]string{"desk": hmisauth.EndedPasswordChanged})
	}},
	{"DisableLeavesReasonByHelpdesk", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "desk", false)
		newSession(t, s, u, "laptop", false)
		newSession(t, s, other, "theirs", false)
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(1)))
		wantSessions(t, s, map[string]bool{"desk": false, "laptop": false, "theirs": true})
		wantReasons(t, s, map[string]string{
			"desk": hmisauth.EndedByHelpdesk, "laptop": hmisauth.EndedByHelpdesk, "theirs": ""})
	}},
	{"ATokenEndedTwiceKeepsTheLatestReason", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "tok", false)
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByUser, t0))
		newSession(t, s, u, "tok", false) // the token hash is free again once its session ended
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, t0))
		wantReasons(t, s, map[string]string{"tok": hmisauth.EndedByHelpdesk})
	}},
	{"UserSessionsListsNewestFirst", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		a := sessionAt(t, s, u, "a", 10)
		c := sessionAt(t, s, u, "c", 30)
		b := sessionAt(t, s, u, "b", 20)
		sessionAt(t, s, other, "o", 40)
		got, err := s.UserSessions(t.Context(), u.ID)
		must(t, err)
		equal(t, "UserSessions", got, []*hmisauth.Session{c, b, a})
		got, err = s.UserSessions(t.Context(), 999)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("UserSessions of no such user = %d sessions, want none", len(got))
		}
	}},
	{"EndUserSessionEndsOneWithItsReason", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "mine", false)
		lost := newSession(t, s, u, "lost-laptop", false)
		must(t, s.EndUserSession(t.Context(), u.ID, lost.ID, hmisauth.EndedByUser, t0))
		wantSessions(t, s, map[string]bool{"mine": true, "lost-laptop": false})
		wantReasons(t, s, map[string]string{"mine": "", "lost-laptop": hmisauth.EndedByUser})
		wantCode(t, s.EndUserSession(t.Context(), u.ID, lost.ID, hmisauth.EndedByUser, t0), hmisauth.ENOTFOUND)
	}},
	{"EndUserSessionOfAnotherUserIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		theirs := newSession(t, s, other, "theirs", false)
		wantCode(t, s.EndUserSession(t.Context(), u.ID, theirs.ID, hmisauth.EndedByUser, t0), hmisauth.ENOTFOUND)
		wantSessions(t, s, map[string]bool{"theirs": true})
		wantReasons(t, s, map[string]string{"theirs": ""})
	}},
	{"ReauthenticatedRecordsTheTimeAndKeepsTheToken", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "tok", false)
		must(t, s.Reauthenticated(t.Context(), sess.ID, at(90), nil))
		got, err := s.SessionByToken(t.Context(), tokenHash("tok"))
		must(t, err)
		sess.ReauthAt = at(90)
		equal(t, "Session", got, sess)
	}},
	{"ReauthenticatedRotatesTheToken", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "old", false)
		must(t, s.Reauthenticated(t.Context(), sess.ID, at(90), tokenHash("new")))
		got, err := s.SessionByToken(t.Context(), tokenHash("new"))
		must(t, err)
		if !bytes.Equal(got.TokenHash, tokenHash("new")) {
			t.Errorf("TokenHash = %x, want the new token's", got.TokenHash)
		}
		sess.TokenHash, sess.ReauthAt = tokenHash("new"), at(90)
		equal(t, "Session", got, sess)
		wantSessions(t, s, map[string]bool{"old": false})
		// The old token was replaced, not ended: its browser is the same one.
		wantReasons(t, s, map[string]string{"old": ""})
	}},
	{"ReauthenticatedWithATakenTokenIsConflict", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "mine", false)
		newSession(t, s, u, "other", false)
		wantCode(t, s.Reauthenticated(t.Context(), sess.ID, at(90), tokenHash("other")), hmisauth.ECONFLICT)
		got, err := s.SessionByToken(t.Context(), tokenHash("mine"))
		must(t, err)
		equal(t, "Session", got, sess)
	}},
	{"ReauthenticatedOfNoSessionIsNotFound", func(t *testing.T, s hmisauth.Store) {
		wantCode(t, s.Reauthenticated(t.Context(), 999, at(90), nil), hmisauth.ENOTFOUND)
	}},
	{"DeleteExpiredSessionsDropsOldEndReasons", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "tok", false)
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, t0))
		n, err := s.DeleteExpiredSessions(t.Context(), t0.Add(hmisauth.SessionEndKept), time.Time{})
		must(t, err)
		if n != 0 {
			t.Errorf("DeleteExpiredSessions = %d, want 0: it counts sessions, not reasons", n)
		}
		wantReasons(t, s, map[string]string{"tok": hmisauth.EndedByHelpdesk})
		_, err = s.DeleteExpiredSessions(t.Context(), t0.Add(hmisauth.SessionEndKept+time.Minute), time.Time{})
		must(t, err)
		wantReasons(t, s, map[string]string{"tok": ""})
	}},
	{"EndReasonIsToldForSessionEndKeptOnly", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newSession(t, s, u, "tok", false)
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, t0))
		for _, tc := range []struct {
			after time.Duration
			told  bool
		}{{0, true}, {hmisauth.SessionEndKept - time.Second, true}, {hmisauth.SessionEndKept + time.Second, false}} {
			reason, err := s.SessionEndReason(t.Context(), tokenHash("tok"), t0.Add(tc.after))
			if told := err == nil && reason == hmisauth.EndedByHelpdesk; told != tc.told {
				t.Errorf("%v after the end: %q, %v; want told = %v", tc.after, reason, err, tc.told)
			}
		}
	}},
}
