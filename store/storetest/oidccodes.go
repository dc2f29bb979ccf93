package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// wantRequest checks AuthRequest(want.ID) finds want.
func wantRequest(t *testing.T, s hmisauth.Store, want *hmisauth.AuthRequest) {
	t.Helper()
	got, err := s.AuthRequest(t.Context(), want.ID)
	must(t, err)
	equal(t, "AuthRequest", got, want)
}

// codeFixture is a user signed in to a client, for the tests of one sign-in's request.
type codeFixture struct {
	u    *hmisauth.User
	sess *hmisauth.Session
	c    *hmisauth.Client
}

func newCodeFixture(t *testing.T, s hmisauth.Store) codeFixture {
	u := newUser(t, s, live, "jdoe")
	return codeFixture{u: u, sess: appSession(t, s, u, "tok"), c: newClient(t, s, live, "hmis-app", backchannel)}
}

var codeTests = []test{
	{"ARequestRoundTrips", func(t *testing.T, s hmisauth.Store) {
		c := newClient(t, s, live, "hmis-app")
		r := authRequest(c, "req-1")
		r.Prompt, r.MaxAge, r.LoginHint, r.HintSubject = []string{"login", "consent"}, 300*time.Second, "jdoe", "subject-1"
		must(t, s.CreateAuthRequest(t.Context(), r))
		wantRequest(t, s, r)
		if r.Done() {
			t.Error("a new request is done")
		}
		// max_age not given (-1) and max_age=0 (sign in again) must not be confused.
		for _, maxAge := range []time.Duration{-1, 0} {
			r := authRequest(c, fmt.Sprint("req-max-age", maxAge))
			r.MaxAge, r.Scopes, r.BrowserHash, r.CreatedAt = maxAge, nil, nil, time.Time{}
			must(t, s.CreateAuthRequest(t.Context(), r))
			if r.CreatedAt.IsZero() {
				t.Fatal("CreatedAt left zero")
			}
			wantRequest(t, s, r)
		}
	}},
	{"ARequestNeedsAClientOfItsSite", func(t *testing.T, s hmisauth.Store) {
		c := newClient(t, s, live, "hmis-app")
		r := authRequest(c, "req-1")
		r.Site = training
		wantCode(t, s.CreateAuthRequest(t.Context(), r), hmisauth.ENOTFOUND)
		r = authRequest(c, "req-1")
		r.ClientID = "nope"
		wantCode(t, s.CreateAuthRequest(t.Context(), r), hmisauth.ENOTFOUND)
		_, err := s.AuthRequest(t.Context(), "req-1")
		wantCode(t, err, hmisauth.ENOTFOUND)
		newRequest(t, s, c, "req-1")
		wantCode(t, s.CreateAuthRequest(t.Context(), authRequest(c, "req-1")), hmisauth.ECONFLICT)
	}},
	{"CompleteRecordsTheSignInOnce", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := newRequest(t, s, f.c, "req-1")
		must(t, s.CompleteAuthRequest(t.Context(), r.ID, f.u.ID, f.sess.ID, t0, []string{"pwd", "hwk", "mfa"}, at(5)))
		r.UserID, r.SessionID, r.AuthTime, r.AMR, r.DoneAt = f.u.ID, f.sess.ID, t0, []string{"pwd", "hwk", "mfa"}, at(5)
		wantRequest(t, s, r)
		if !r.Done() {
			t.Error("a completed request is not done")
		}
		other := appSession(t, s, f.u, "other")
		wantCode(t, s.CompleteAuthRequest(t.Context(), r.ID, f.u.ID, other.ID, at(6), nil, at(6)), hmisauth.ENOTFOUND)
		wantRequest(t, s, r)
		wantCode(t, s.CompleteAuthRequest(t.Context(), "nope", f.u.ID, f.sess.ID, t0, nil, at(6)), hmisauth.ENOTFOUND)
	}},
	{"CompleteIsRefusedOnceTheRequestExpired", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := newRequest(t, s, f.c, "req-1")
		wantCode(t, s.CompleteAuthRequest(t.Context(), r.ID, f.u.ID, f.sess.ID, t0, nil, r.ExpiresAt), hmisauth.ENOTFOUND)
		wantRequest(t, s, r)
		must(t, s.CompleteAuthRequest(t.Context(), r.ID, f.u.ID, f.sess.ID, t0, nil, r.ExpiresAt.Add(-time.Microsecond)))
	}},
	{"CompleteNeedsTheUsersLiveSessionOnTheSite", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		other := newUser(t, s, live, "other")
		theirs := appSession(t, s, other, "theirs")
		trainee := newUser(t, s, training, "jdoe")
		elsewhere := appSession(t, s, trainee, "elsewhere")
		ended := appSession(t, s, f.u, "ended")
		must(t, s.DeleteSession(t.Context(), ended.ID, true))
		r := newRequest(t, s, f.c, "req-1")
		for what, sess := range map[string]*hmisauth.Session{"an ended": ended, "another site's": elsewhere} {
			if err := s.CompleteAuthRequest(t.Context(), r.ID, sess.UserID, sess.ID, t0, nil, at(1)); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
				t.Errorf("completing with %s session: %v, want not_found", what, err)
			}
		}
		// The session must be the user's, either way round.
		wantCode(t, s.CompleteAuthRequest(t.Context(), r.ID, other.ID, f.sess.ID, t0, nil, at(1)), hmisauth.ENOTFOUND)
		wantCode(t, s.CompleteAuthRequest(t.Context(), r.ID, f.u.ID, theirs.ID, t0, nil, at(1)), hmisauth.ENOTFOUND)
		wantRequest(t, s, r)
		got, err := s.SessionClients(t.Context(), f.u.ID)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("refused completions linked sessions to clients: %v", got)
		}
	}},
	{"SaveAuthCodeOnceOnADoneRequest", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := newRequest(t, s, f.c, "req-1")
		wantCode(t, s.SaveAuthCode(t.Context(), r.ID, codeHash("a")), hmisauth.ENOTFOUND)
		wantCode(t, s.SaveAuthCode(t.Context(), "nope", codeHash("a")), hmisauth.ENOTFOUND)
		must(t, s.CompleteAuthRequest(t.Context(), r.ID, f.u.ID, f.sess.ID, t0, nil, at(1)))
		must(t, s.SaveAuthCode(t.Context(), r.ID, codeHash("a")))
		wantCode(t, s.SaveAuthCode(t.Context(), r.ID, codeHash("b")), hmisauth.ECONFLICT)
		got, err := s.AuthRequest(t.Context(), r.ID)
		must(t, err)
		equal(t, "CodeHash", got.CodeHash, codeHash("a"))
	}},
	{"UseAuthCodeRedeemsADoneUnexpiredCode", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := signInTo(t, s, f.c, f.sess, "req-1")
		got, err := s.UseAuthCode(t.Context(), r.CodeHash, at(30))
		must(t, err)
		r.CodeUsedAt = at(30)
		equal(t, "UseAuthCode", got, r)
		wantRequest(t, s, r)
	}},
	{"UnknownOrExpiredCodeIsNotFound", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := signInTo(t, s, f.c, f.sess, "req-1")
		_, err := s.UseAuthCode(t.Context(), codeHash("nope"), at(30))
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.UseAuthCode(t.Context(), nil, at(30))
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.UseAuthCode(t.Context(), r.CodeHash, r.ExpiresAt)
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantRequest(t, s, r) // not redeemed, so not a replay either
		_, err = s.UseAuthCode(t.Context(), r.CodeHash, r.ExpiresAt)
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"ACodeOfAnEndedSessionIsNotFound", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := signInTo(t, s, f.c, f.sess, "req-1")
		must(t, s.DeleteSession(t.Context(), f.sess.ID, false))
		_, err := s.UseAuthCode(t.Context(), r.CodeHash, at(3))
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"ReplayRevokesEveryTokenIssuedFromTheCode", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := signInTo(t, s, f.c, f.sess, "req-1")
		other := signInTo(t, s, f.c, f.sess, "req-2")
		_, rt := issue(t, s, r)
		issue(t, s, other)
		// A second access token from the code, and a descendant of its refresh family.
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-extra"), nil))
		next, _ := rotate(t, s, rt, "rt-next", "at-refreshed", 60)
		_, err := s.UseAuthCode(t.Context(), r.CodeHash, at(90))
		wantCode(t, err, hmisauth.ECodeReplayed)
		wantAccess(t, s, map[string]bool{"at-req-1": false, "at-extra": false, "at-refreshed": false, "at-req-2": true})
		wantRefresh(t, s, map[string]bool{"rt-req-1": false, "rt-next": false, "rt-req-2": true})
		// Nothing more comes from it, and a further replay is one too.
		wantCode(t, s.IssueTokens(t.Context(), accessFor(r, "at-after"), nil), hmisauth.ENOTFOUND)
		wantCode(t, s.RotateRefreshToken(t.Context(), next.Hash, at(95), refreshFor(r, "rt-after", next.Family),
			accessFor(r, "at-after")), hmisauth.ENOTFOUND)
		_, err = s.UseAuthCode(t.Context(), r.CodeHash, at(100))
		wantCode(t, err, hmisauth.ECodeReplayed)
		wantAccess(t, s, map[string]bool{"at-after": false, "at-req-2": true})
		wantSessions(t, s, map[string]bool{"tok": true})
	}},
	{"AReplayedCodeExpiredIsStillAReplay", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := signInTo(t, s, f.c, f.sess, "req-1")
		issue(t, s, r)
		_, err := s.UseAuthCode(t.Context(), r.CodeHash, r.ExpiresAt.Add(time.Hour))
		wantCode(t, err, hmisauth.ECodeReplayed)
		wantAccess(t, s, map[string]bool{"at-req-1": false})
	}},
	{"OfTwentyParallelRedemptionsOneWinsAndNoTokenSurvives", func(t *testing.T, s hmisauth.Store) {
		parallelCodeRedemption(t, []hmisauth.Store{s}, 20)
	}},
}

// ParallelCodeRedemption signs a user in to a client and has n parallel redemptions of the
// code, spread over the stores (which must share one database), each issuing tokens at once if
// it won. It checks exactly one won, every other was a replay or not found, and no token
// issued from the code survives (the replays revoke what the winner was issued, or the winner
// is refused). Backends use it to check two Store values — two processes — agree.
func ParallelCodeRedemption(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	parallelCodeRedemption(t, stores, n)
}

func parallelCodeRedemption(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	s := stores[0]
	f := newCodeFixture(t, s)
	r := signInTo(t, s, f.c, f.sess, "req-1")
	won := make([]bool, n)
	errs := parallel(n, func(i int) error {
		store := stores[i%len(stores)]
		got, err := store.UseAuthCode(t.Context(), r.CodeHash, at(2))
		if err != nil {
			return err
		}
		won[i] = got.ID == r.ID
		err = store.IssueTokens(t.Context(), accessFor(got, fmt.Sprint("at-", i)), refreshFor(got, fmt.Sprint("rt-", i), "family"))
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return nil // a replay got there first
		}
		return err
	})
	for i, err := range errs {
		switch hmisauth.ErrorCode(err) {
		case "", hmisauth.ECodeReplayed, hmisauth.ENOTFOUND:
		default:
			t.Errorf("redemption %d: %v, want success, code_replayed or not_found", i, err)
		}
	}
	if got := countTrue(won); got != 1 {
		t.Fatalf("%d of %d parallel redemptions of one code won, want 1", got, n)
	}
	for i := range n {
		wantAccess(t, s, map[string]bool{fmt.Sprint("at-", i): false})
		wantRefresh(t, s, map[string]bool{fmt.Sprint("rt-", i): false})
	}
	got, err := s.AuthRequest(t.Context(), r.ID)
	must(t, err)
	if !got.CodeUsedAt.Equal(at(2)) {
		t.Errorf("CodeUsedAt = %v, want %v", got.CodeUsedAt, at(2))
	}
}
