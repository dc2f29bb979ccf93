package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// formToken issues a token for sess and purpose, made at t0 and expiring an hour later.
func formToken(t *testing.T, s hmisauth.Store, sess *hmisauth.Session, token, purpose string) *hmisauth.FormToken {
	t.Helper()
	f := &hmisauth.FormToken{Hash: tokenHash(token), SessionID: sess.ID, Purpose: purpose,
		CreatedAt: t0, ExpiresAt: at(3600)}
	must(t, s.IssueFormToken(t.Context(), f))
	if f.ID == 0 {
		t.Fatalf("IssueFormToken(%s) left ID zero", token)
	}
	return f
}

// useForm uses token for sess and purpose at now and checks whether it was the first use.
func useForm(t *testing.T, s hmisauth.Store, sess *hmisauth.Session, token, purpose string, now time.Time, wantFirst bool) *hmisauth.FormToken {
	t.Helper()
	got, first, err := s.UseFormToken(t.Context(), tokenHash(token), sess.ID, purpose, now)
	must(t, err)
	if first != wantFirst {
		t.Fatalf("UseFormToken(%s) first = %v, want %v", token, first, wantFirst)
	}
	return got
}

// wantNoForm checks the use is refused with ENOTFOUND and a message for the user.
func wantNoForm(t *testing.T, s hmisauth.Store, sessionID int64, token, purpose string, now time.Time) {
	t.Helper()
	_, _, err := s.UseFormToken(t.Context(), tokenHash(token), sessionID, purpose, now)
	if e := wantCode(t, err, hmisauth.ENOTFOUND); e.Message == "" {
		t.Error("a refused form token's error has no message")
	}
}

var formTokenTests = []test{
	{"UsedOnceThenAnswersWhatTheFirstUseDid", func(t *testing.T, s hmisauth.Store) {
		sess := newSession(t, s, newUser(t, s, live, "admin"), "tok", false)
		issued := formToken(t, s, sess, "form", "create-user")
		got := useForm(t, s, sess, "form", "create-user", at(60), true)
		want := *issued
		want.UsedAt = at(60)
		equal(t, "first use", got, &want)
		// A repeat while the first is still at work: used, nothing recorded yet.
		equal(t, "repeat before the result", useForm(t, s, sess, "form", "create-user", at(61), false), &want)
		must(t, s.CompleteFormToken(t.Context(), tokenHash("form"), `{"username":"aruiz"}`))
		want.Result = `{"username":"aruiz"}`
		equal(t, "repeat after the result", useForm(t, s, sess, "form", "create-user", at(62), false), &want)
		// The first result stands; a give-back after it changes nothing.
		must(t, s.CompleteFormToken(t.Context(), tokenHash("form"), `{"username":"aruiz2"}`))
		must(t, s.ReleaseFormToken(t.Context(), tokenHash("form")))
		equal(t, "after a late give-back", useForm(t, s, sess, "form", "create-user", at(63), false), &want)
	}},
	{"OnlyItsOwnSessionAndPurposeWhileUnexpired", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "admin")
		sess := newSession(t, s, u, "tok", false)
		other := newSession(t, s, u, "other", false)
		f := formToken(t, s, sess, "form", "temporary-password:jdoe")
		wantNoForm(t, s, other.ID, "form", "temporary-password:jdoe", at(60))
		wantNoForm(t, s, sess.ID, "form", "temporary-password:asmith", at(60))
		wantNoForm(t, s, sess.ID, "unknown", "temporary-password:jdoe", at(60))
		wantNoForm(t, s, sess.ID, "form", "temporary-password:jdoe", f.ExpiresAt)
		// None of those used it.
		useForm(t, s, sess, "form", "temporary-password:jdoe", f.ExpiresAt.Add(-time.Microsecond), true)
		// Once expired, not even a used token answers.
		wantNoForm(t, s, sess.ID, "form", "temporary-password:jdoe", f.ExpiresAt)
	}},
	{"AGivenBackUseMayBeUsedAgain", func(t *testing.T, s hmisauth.Store) {
		sess := newSession(t, s, newUser(t, s, live, "admin"), "tok", false)
		formToken(t, s, sess, "form", "import")
		// Recording a result of a token never used does nothing.
		must(t, s.CompleteFormToken(t.Context(), tokenHash("form"), "too early"))
		useForm(t, s, sess, "form", "import", at(60), true)
		must(t, s.ReleaseFormToken(t.Context(), tokenHash("form")))
		if got := useForm(t, s, sess, "form", "import", at(70), true); !got.UsedAt.Equal(at(70)) || got.Result != "" {
			t.Errorf("used again after the give-back: UsedAt %v, Result %q; want %v and none", got.UsedAt, got.Result, at(70))
		}
		useForm(t, s, sess, "form", "import", at(71), false)
	}},
	{"IssueNeedsALiveSessionAndANewHash", func(t *testing.T, s hmisauth.Store) {
		sess := newSession(t, s, newUser(t, s, live, "admin"), "tok", false)
		formToken(t, s, sess, "form", "add-agency")
		dup := &hmisauth.FormToken{Hash: tokenHash("form"), SessionID: sess.ID, Purpose: "add-agency", CreatedAt: t0, ExpiresAt: at(60)}
		wantCode(t, s.IssueFormToken(t.Context(), dup), hmisauth.ECONFLICT)
		gone := &hmisauth.FormToken{Hash: tokenHash("new"), SessionID: sess.ID + 100, Purpose: "add-agency", CreatedAt: t0, ExpiresAt: at(60)}
		wantCode(t, s.IssueFormToken(t.Context(), gone), hmisauth.ENOTFOUND)
	}},
	{"TokensGoWithTheirSession", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "admin")
		signedOut := newSession(t, s, u, "out", false)
		ended := newSession(t, s, u, "ended", false)
		formToken(t, s, signedOut, "form1", "create-user")
		formToken(t, s, ended, "form2", "create-user")
		must(t, s.DeleteSession(t.Context(), signedOut.ID, true))
		must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, at(10)))
		wantNoForm(t, s, signedOut.ID, "form1", "create-user", at(20))
		wantNoForm(t, s, ended.ID, "form2", "create-user", at(20))
	}},
	{"NoEventsAreAppended", func(t *testing.T, s hmisauth.Store) {
		sess := newSession(t, s, newUser(t, s, live, "admin"), "tok", false)
		before := len(wantChain(t, s))
		ctx := carrying(t, event("note", "admin", "not for the log", 10))
		f := &hmisauth.FormToken{Hash: tokenHash("form"), SessionID: sess.ID, Purpose: "recovery-codes", CreatedAt: t0, ExpiresAt: at(60)}
		must(t, s.IssueFormToken(ctx, f))
		_, _, err := s.UseFormToken(ctx, tokenHash("form"), sess.ID, "recovery-codes", at(1))
		must(t, err)
		must(t, s.ReleaseFormToken(ctx, tokenHash("form")))
		_, _, err = s.UseFormToken(ctx, tokenHash("form"), sess.ID, "recovery-codes", at(2))
		must(t, err)
		must(t, s.CompleteFormToken(ctx, tokenHash("form"), "{}"))
		if after := len(wantChain(t, s)); after != before {
			t.Errorf("the log grew from %d to %d events: form tokens are not audited", before, after)
		}
	}},
	{"ExpiredTokensGoWithRetention", func(t *testing.T, s hmisauth.Store) {
		sess := newSession(t, s, newUser(t, s, live, "admin"), "tok", false)
		for i, sec := range []int{100, 200, 300} {
			f := &hmisauth.FormToken{Hash: tokenHash(fmt.Sprint("form", i)), SessionID: sess.ID, Purpose: "create-user",
				CreatedAt: t0, ExpiresAt: at(sec)}
			must(t, s.IssueFormToken(t.Context(), f))
		}
		deleteRetained(t, s, hmisauth.RetentionCutoffs{FormTokens: at(200)}, hmisauth.RetentionCounts{FormTokens: 2})
		deleteRetained(t, s, hmisauth.RetentionCutoffs{FormTokens: at(200)}, hmisauth.RetentionCounts{})
		// A site's own run leaves them: they are rows of no site.
		deleteRetained(t, s, hmisauth.RetentionCutoffs{Site: live, SentMail: at(1000)}, hmisauth.RetentionCounts{})
		useForm(t, s, sess, "form2", "create-user", at(250), true)
	}},
	{"OfParallelUsesExactlyOneIsFirst", func(t *testing.T, s hmisauth.Store) {
		parallelFormUse(t, []hmisauth.Store{s}, 20)
	}},
}

// ParallelFormUse sends one form token n times at once (a double click, a reload while the
// first is at work), spread over the stores (which must share one database), and checks
// exactly one use is the first and every other sees the token used; four times, on four
// tokens, since a lost update shows only when the goroutines overlap.
func ParallelFormUse(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	parallelFormUse(t, stores, n)
}

func parallelFormUse(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	sess := newSession(t, stores[0], newUser(t, stores[0], live, "admin"), "tok", false)
	for round := range 4 {
		token := fmt.Sprint("form", round)
		formToken(t, stores[0], sess, token, "create-user")
		firsts := make([]bool, n)
		wantNoErrors(t, parallel(n, func(i int) error {
			got, first, err := stores[i%len(stores)].UseFormToken(t.Context(), tokenHash(token), sess.ID, "create-user", at(10+i))
			if err == nil && got.UsedAt.IsZero() {
				err = fmt.Errorf("use %d answered a token with no UsedAt", i)
			}
			firsts[i] = first
			return err
		}))
		if got := countTrue(firsts); got != 1 {
			t.Errorf("%s: %d of %d parallel uses were the first, want exactly 1", token, got, n)
		}
	}
}
