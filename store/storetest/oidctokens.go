package storetest

import (
	"fmt"
	"testing"

	"github.com/hmisauth/hmisauth"
)

func wantAccessToken(t *testing.T, s hmisauth.Store, want *hmisauth.AccessToken) {
	t.Helper()
	got, err := s.AccessToken(t.Context(), want.ID)
	must(t, err)
	equal(t, "AccessToken", got, want)
}

func wantRefreshToken(t *testing.T, s hmisauth.Store, want *hmisauth.RefreshToken) {
	t.Helper()
	got, err := s.RefreshToken(t.Context(), want.Hash)
	must(t, err)
	equal(t, "RefreshToken", got, want)
}

// tokenFixture is a sign-in whose code was redeemed, before any token is issued.
func tokenFixture(t *testing.T, s hmisauth.Store) (codeFixture, *hmisauth.AuthRequest) {
	f := newCodeFixture(t, s)
	r := signInTo(t, s, f.c, f.sess, "req-1")
	return f, redeem(t, s, r)
}

var tokenTests = []test{
	{"IssuedTokensRoundTrip", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		a, rt := accessFor(r, "at-1"), refreshFor(r, "rt-1", "fam-1")
		must(t, s.IssueTokens(t.Context(), a, rt))
		wantAccessToken(t, s, a)
		wantRefreshToken(t, s, rt)
		alone := accessFor(r, "at-2")
		alone.Scopes = nil
		must(t, s.IssueTokens(t.Context(), alone, nil))
		wantAccessToken(t, s, alone)
		_, err := s.AccessToken(t.Context(), "nope")
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.RefreshToken(t.Context(), tokenHash("nope"))
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"IssueIsRefusedOnceTheSessionEnded", func(t *testing.T, s hmisauth.Store) {
		f, r := tokenFixture(t, s)
		must(t, s.DeleteSession(t.Context(), f.sess.ID, false))
		wantCode(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), refreshFor(r, "rt-1", "fam-1")), hmisauth.ENOTFOUND)
		wantAccess(t, s, map[string]bool{"at-1": false})
		wantRefresh(t, s, map[string]bool{"rt-1": false})
	}},
	{"IssueNeedsTheUsersSessionAndClientOnTheSite", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		other := newUser(t, s, live, "other")
		for what, edit := range map[string]func(a *hmisauth.AccessToken){
			"another user":      func(a *hmisauth.AccessToken) { a.UserID = other.ID },
			"another site":      func(a *hmisauth.AccessToken) { a.Site = training },
			"an unknown client": func(a *hmisauth.AccessToken) { a.ClientID = "nope" },
			"no session":        func(a *hmisauth.AccessToken) { a.SessionID = 999 },
		} {
			a := accessFor(r, "at-x")
			edit(a)
			if err := s.IssueTokens(t.Context(), a, nil); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
				t.Errorf("a token for %s: %v, want not_found", what, err)
			}
		}
		wantAccess(t, s, map[string]bool{"at-x": false})
	}},
	{"IssueIsOnlyForAClientTheSessionSignedInTo", func(t *testing.T, s hmisauth.Store) {
		f, r := tokenFixture(t, s)
		newClient(t, s, live, "ce", backchannel)
		a := accessFor(r, "at-ce")
		a.ClientID, a.AuthRequestID = "ce", ""
		wantCode(t, s.IssueTokens(t.Context(), a, nil), hmisauth.ENOTFOUND)
		// Nor for another session of the user, even one that signed in to the client: a
		// request's tokens are its session's.
		laptop := appSession(t, s, f.u, "laptop")
		signInTo(t, s, f.c, laptop, "req-laptop")
		a = accessFor(r, "at-laptop")
		a.SessionID = laptop.ID
		wantCode(t, s.IssueTokens(t.Context(), a, nil), hmisauth.ENOTFOUND)
		// Nor from a request not finished.
		pending := newRequest(t, s, f.c, "pending")
		a = accessFor(r, "at-pending")
		a.AuthRequestID = pending.ID
		wantCode(t, s.IssueTokens(t.Context(), a, nil), hmisauth.ENOTFOUND)
		wantAccess(t, s, map[string]bool{"at-ce": false, "at-laptop": false, "at-pending": false})
	}},
	{"IssueStoresBothOrNeither", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), refreshFor(r, "rt-1", "fam-1")))
		wantCode(t, s.IssueTokens(t.Context(), accessFor(r, "at-2"), refreshFor(r, "rt-1", "fam-2")), hmisauth.ECONFLICT)
		wantCode(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), refreshFor(r, "rt-3", "fam-3")), hmisauth.ECONFLICT)
		wantAccess(t, s, map[string]bool{"at-1": true, "at-2": false})
		wantRefresh(t, s, map[string]bool{"rt-1": true, "rt-3": false})
	}},
	{"RotateMarksTheOldAndStoresTheNextInItsFamily", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		rt := refreshFor(r, "rt-1", "fam-1")
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), rt))
		next, a := nextTokens(rt, "rt-2", "at-2", 60)
		// The grant is the old token's, whatever the caller says.
		next.Family, next.UserID, a.Family, a.SessionID = "other", 999, "", 999
		must(t, s.RotateRefreshToken(t.Context(), rt.Hash, at(60), next, a))
		want, wantAT := nextTokens(rt, "rt-2", "at-2", 60)
		equal(t, "next as stored", next, want)
		equal(t, "access token as stored", a, wantAT)
		wantRefreshToken(t, s, want)
		wantAccessToken(t, s, wantAT)
		rt.RotatedAt = at(60)
		wantRefreshToken(t, s, rt)
		third, _ := rotate(t, s, want, "rt-3", "at-3", 120)
		wantRefreshToken(t, s, third)
		wantAccess(t, s, map[string]bool{"at-1": true, "at-2": true, "at-3": true})
	}},
	{"RotateOfAnUnknownOrExpiredTokenIsNotFound", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		rt := refreshFor(r, "rt-1", "fam-1")
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), rt))
		next, a := nextTokens(rt, "rt-2", "at-2", 60)
		wantCode(t, s.RotateRefreshToken(t.Context(), tokenHash("nope"), at(60), next, a), hmisauth.ENOTFOUND)
		wantCode(t, s.RotateRefreshToken(t.Context(), rt.Hash, rt.ExpiresAt, next, a), hmisauth.ENOTFOUND)
		wantRefreshToken(t, s, rt) // neither rotated nor revoked
		wantAccess(t, s, map[string]bool{"at-1": true, "at-2": false})
		wantRefresh(t, s, map[string]bool{"rt-2": false})
		rotate(t, s, rt, "rt-2", "at-2", 60)
	}},
	{"RotateOfATokenWhoseSessionEndedIsNotFound", func(t *testing.T, s hmisauth.Store) {
		f, r := tokenFixture(t, s)
		rt := refreshFor(r, "rt-1", "fam-1")
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), rt))
		must(t, s.DeleteUserSessions(t.Context(), f.u.ID, 0, hmisauth.EndedByHelpdesk, at(30)))
		next, a := nextTokens(rt, "rt-2", "at-2", 60)
		wantCode(t, s.RotateRefreshToken(t.Context(), rt.Hash, at(60), next, a), hmisauth.ENOTFOUND)
		wantAccess(t, s, map[string]bool{"at-1": false, "at-2": false})
	}},
	{"ReuseOfARotatedTokenRevokesItsFamily", func(t *testing.T, s hmisauth.Store) {
		f, r := tokenFixture(t, s)
		rt := refreshFor(r, "rt-1", "fam-1")
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), rt))
		next, _ := rotate(t, s, rt, "rt-2", "at-2", 60)
		rotate(t, s, next, "rt-3", "at-3", 120)
		// Another sign-in of the same session, in a family of its own, is not touched.
		r2 := signInTo(t, s, f.c, f.sess, "req-2")
		issue(t, s, r2)
		again, a := nextTokens(rt, "rt-stolen", "at-stolen", 180)
		wantCode(t, s.RotateRefreshToken(t.Context(), rt.Hash, at(180), again, a), hmisauth.ERefreshReused)
		wantRefresh(t, s, map[string]bool{"rt-1": false, "rt-2": false, "rt-3": false, "rt-stolen": false, "rt-req-2": true})
		// at-1 was issued with the code, in no family: the code, not the family, answers for it.
		wantAccess(t, s, map[string]bool{"at-1": true, "at-2": false, "at-3": false, "at-stolen": false, "at-req-2": true})
		wantSessions(t, s, map[string]bool{"tok": true})
	}},
	{"OfTwentyParallelRefreshesOneWins", func(t *testing.T, s hmisauth.Store) {
		parallelRefresh(t, []hmisauth.Store{s}, 20)
	}},
	{"RevokeFamilyRemovesItsTokensOnce", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		rt := refreshFor(r, "rt-1", "fam-1")
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), rt))
		rotate(t, s, rt, "rt-2", "at-2", 60)
		r2 := signInTo(t, s, newClient(t, s, live, "other"), otherSession(t, s), "req-2")
		issue(t, s, r2)
		for _, tc := range []struct{ site, family string }{{training, "fam-1"}, {live, ""}, {live, "nope"}} {
			if ok, err := s.RevokeFamily(t.Context(), tc.site, tc.family); err != nil || ok {
				t.Errorf("RevokeFamily(%s, %q) = %v, %v; want false", tc.site, tc.family, ok, err)
			}
		}
		wantAccess(t, s, map[string]bool{"at-1": true, "at-2": true})
		if ok, err := s.RevokeFamily(t.Context(), live, "fam-1"); err != nil || !ok {
			t.Fatalf("RevokeFamily = %v, %v; want true", ok, err)
		}
		wantRefresh(t, s, map[string]bool{"rt-1": false, "rt-2": false, "rt-req-2": true})
		wantAccess(t, s, map[string]bool{"at-1": true, "at-2": false, "at-req-2": true})
		if ok, err := s.RevokeFamily(t.Context(), live, "fam-1"); err != nil || ok {
			t.Errorf("RevokeFamily again = %v, %v; want false", ok, err)
		}
	}},
	{"RevokeAccessTokenRemovesOneOnce", func(t *testing.T, s hmisauth.Store) {
		_, r := tokenFixture(t, s)
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), refreshFor(r, "rt-1", "fam-1")))
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-2"), nil))
		for _, tc := range []struct {
			site, id string
			want     bool
		}{{training, "at-1", false}, {live, "nope", false}, {live, "at-1", true}, {live, "at-1", false}} {
			if ok, err := s.RevokeAccessToken(t.Context(), tc.site, tc.id); err != nil || ok != tc.want {
				t.Errorf("RevokeAccessToken(%s, %s) = %v, %v; want %v", tc.site, tc.id, ok, err, tc.want)
			}
		}
		wantAccess(t, s, map[string]bool{"at-1": false, "at-2": true})
		wantRefresh(t, s, map[string]bool{"rt-1": true})
	}},
	{"SessionClientsListsEachSessionsClientsInOrder", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		ce := newClient(t, s, live, "ce")
		beds := newClient(t, s, live, "beds")
		laptop := appSession(t, s, f.u, "laptop")
		appSession(t, s, f.u, "none")
		theirs := appSession(t, s, newUser(t, s, live, "other"), "theirs")
		signInTo(t, s, ce, f.sess, "r1")
		signInTo(t, s, f.c, f.sess, "r2")
		signInTo(t, s, ce, f.sess, "r3") // again: still first at r1
		signInTo(t, s, beds, laptop, "r4")
		signInTo(t, s, beds, theirs, "r5")
		got, err := s.SessionClients(t.Context(), f.u.ID)
		must(t, err)
		if len(got) != 2 {
			t.Errorf("SessionClients = %v, want two sessions", got)
		}
		equal(t, "desk's clients", got[f.sess.ID], []string{"ce", "hmis-app"})
		equal(t, "laptop's clients", got[laptop.ID], []string{"beds"})
		got, err = s.SessionClients(t.Context(), 999)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("SessionClients of no such user = %v", got)
		}
	}},
	{"DeleteExpiredOIDCRemovesWhatNoOneCanUse", func(t *testing.T, s hmisauth.Store) {
		f, r := tokenFixture(t, s)
		short := accessFor(r, "at-short")
		short.ExpiresAt = at(100)
		must(t, s.IssueTokens(t.Context(), short, nil))
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-long"), refreshFor(r, "rt-1", "fam-1")))
		soon := refreshFor(r, "rt-soon", "fam-2")
		soon.ExpiresAt = at(100)
		must(t, s.IssueTokens(t.Context(), accessFor(r, "at-x"), soon))
		late := authRequest(f.c, "late")
		late.ExpiresAt = at(7200)
		must(t, s.CreateAuthRequest(t.Context(), late))
		// The request expired at t0+600s; kept until before passes it.
		must(t, s.DeleteExpiredOIDC(t.Context(), at(100), at(600)))
		wantAccess(t, s, map[string]bool{"at-short": false, "at-long": true, "at-x": true})
		wantRefresh(t, s, map[string]bool{"rt-soon": false, "rt-1": true})
		wantRequest(t, s, late)
		if _, err := s.AuthRequest(t.Context(), r.ID); err != nil {
			t.Errorf("a request expiring at before was deleted: %v", err)
		}
		must(t, s.DeleteExpiredOIDC(t.Context(), at(101), at(601)))
		_, err := s.AuthRequest(t.Context(), r.ID)
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantRequest(t, s, late)
		// Its tokens outlive it.
		wantAccess(t, s, map[string]bool{"at-long": true})
		wantRefresh(t, s, map[string]bool{"rt-1": true})
	}},
}

// otherSession is another user's session on live, for tests that need a second sign-in.
func otherSession(t *testing.T, s hmisauth.Store) *hmisauth.Session {
	return appSession(t, s, newUser(t, s, live, "bsmith"), "bsmith-tok")
}

// ParallelRefresh issues a refresh token and has n parallel refreshes with it, spread over the
// stores (which must share one database). It checks exactly one succeeded, and every other was
// reuse, which revoked the family, the winner's new tokens with it, or came after the family
// was revoked and found the token unknown. Backends use it to
// check two Store values — two processes — agree.
func ParallelRefresh(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	parallelRefresh(t, stores, n)
}

func parallelRefresh(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	s := stores[0]
	_, r := tokenFixture(t, s)
	rt := refreshFor(r, "rt-1", "fam-1")
	must(t, s.IssueTokens(t.Context(), accessFor(r, "at-1"), rt))
	errs := parallel(n, func(i int) error {
		next, a := nextTokens(rt, fmt.Sprint("rt-next-", i), fmt.Sprint("at-next-", i), 60)
		return stores[i%len(stores)].RotateRefreshToken(t.Context(), rt.Hash, at(60), next, a)
	})
	ok, reused := 0, 0
	for i, err := range errs {
		switch hmisauth.ErrorCode(err) {
		case "":
			ok++
		case hmisauth.ERefreshReused:
			reused++
		case hmisauth.ENOTFOUND: // the family was revoked by a reuse before it
		default:
			t.Errorf("refresh %d: %v, want success, refresh_reused or not_found", i, err)
		}
	}
	if ok != 1 || (n > 1 && reused == 0) {
		t.Fatalf("%d of %d parallel refreshes with one token succeeded and %d were reuse, want 1 and at least 1", ok, n, reused)
	}
	if n > 1 {
		for i := range n {
			wantRefresh(t, s, map[string]bool{fmt.Sprint("rt-next-", i): false})
			wantAccess(t, s, map[string]bool{fmt.Sprint("at-next-", i): false})
		}
	}
}
