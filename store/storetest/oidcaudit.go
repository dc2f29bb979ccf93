package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// noticeOf is the logout notice for the session with sid as stored, with its current lease.
func noticeOf(ctx context.Context, s hmisauth.Store, sid string) (*hmisauth.LogoutNotice, error) {
	ns, err := s.LogoutNotices(ctx, 1000)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if n.SID == sid {
			return n, nil
		}
	}
	return nil, errors.New("no notice for " + sid)
}

var oidcAuditTests = []test{
	{"EveryOIDCWriteCarriesItsEvents", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess, other := appSession(t, s, u, "tok"), appSession(t, s, u, "other")
		signInTo(t, s, newClient(t, s, live, "ce", backchannel), other, "other-req")
		addKey(t, s, signingKey(live, "k0", 0), true)
		c := appClient(live, "hmis-app")
		backchannel(c)
		r := authRequest(c, "req-1")
		done := func(ctx context.Context) *hmisauth.AuthRequest {
			got, err := s.AuthRequest(ctx, r.ID)
			must(t, err)
			return got
		}
		var rt *hmisauth.RefreshToken
		writes := []auditedWrite{
			{"CreateClient", func(ctx context.Context) error { return s.CreateClient(ctx, c) }},
			{"UpdateClient", func(ctx context.Context) error {
				c.Name = "HMIS"
				return s.UpdateClient(ctx, c)
			}},
			{"CreateAuthRequest", func(ctx context.Context) error { return s.CreateAuthRequest(ctx, r) }},
			{"CompleteAuthRequest", func(ctx context.Context) error {
				return s.CompleteAuthRequest(ctx, r.ID, u.ID, sess.ID, t0, []string{"pwd"}, at(1))
			}},
			{"SaveAuthCode", func(ctx context.Context) error { return s.SaveAuthCode(ctx, r.ID, codeHash(r.ID)) }},
			{"IssueTokens", func(ctx context.Context) error {
				must(t, second(s.UseAuthCode(t.Context(), codeHash(r.ID), at(2))))
				rt = refreshFor(done(t.Context()), "rt-1", "fam-1")
				return s.IssueTokens(ctx, accessFor(done(t.Context()), "at-1"), rt)
			}},
			{"RotateRefreshToken", func(ctx context.Context) error {
				next, a := nextTokens(rt, "rt-2", "at-2", 60)
				return s.RotateRefreshToken(ctx, rt.Hash, at(60), next, a)
			}},
			{"RevokeAccessToken", func(ctx context.Context) error { return wantTrue(s.RevokeAccessToken(ctx, live, "at-1")) }},
			{"RevokeFamily", func(ctx context.Context) error { return wantTrue(s.RevokeFamily(ctx, live, "fam-1")) }},
			{"DeleteSession(signOut)", func(ctx context.Context) error { return s.DeleteSession(ctx, sess.ID, true) }},
			{"EndUserSession", func(ctx context.Context) error {
				return s.EndUserSession(ctx, u.ID, other.ID, hmisauth.EndedByUser, at(3))
			}},
			{"ClaimLogouts", func(ctx context.Context) error {
				ns, err := s.ClaimLogouts(ctx, at(3600), time.Hour, 10)
				if err == nil && len(ns) != 2 {
					err = fmt.Errorf("claimed %d notices, want 2", len(ns))
				}
				return err
			}},
			{"LogoutFailed", func(ctx context.Context) error {
				n, err := noticeOf(t.Context(), s, other.SID)
				if err != nil {
					return err
				}
				return s.LogoutFailed(ctx, n, at(3700), "503")
			}},
			{"ClaimLogouts(the retry)", func(ctx context.Context) error {
				ns, err := s.ClaimLogouts(ctx, at(3700), time.Minute, 10)
				if err == nil && (len(ns) != 1 || ns[0].SID != other.SID) {
					err = fmt.Errorf("claimed %d notices, want the one retried", len(ns))
				}
				return err
			}},
			{"LogoutSent", func(ctx context.Context) error {
				n, err := noticeOf(t.Context(), s, other.SID)
				if err != nil {
					return err
				}
				return s.LogoutSent(ctx, n, at(3800))
			}},
			{"AbandonLogout", func(ctx context.Context) error {
				n, err := noticeOf(t.Context(), s, sess.SID)
				if err != nil {
					return err
				}
				return s.AbandonLogout(ctx, n, at(3800), "gone")
			}},
			{"AddSigningKey", func(ctx context.Context) error { return wantTrue(s.AddSigningKey(ctx, signingKey(live, "k1", 100))) }},
			{"UseSigningKeyFrom", func(ctx context.Context) error { return s.UseSigningKeyFrom(ctx, live, "k1", at(50)) }},
			{"DeleteSigningKeys", func(ctx context.Context) error { return s.DeleteSigningKeys(ctx, live, at(200)) }},
			{"DeleteExpiredOIDC", func(ctx context.Context) error { return s.DeleteExpiredOIDC(ctx, at(7200), at(7200)) }},
			{"DeleteClient", func(ctx context.Context) error { return s.DeleteClient(ctx, live, "hmis-app") }},
		}
		wantEachWriteAppendsItsEvent(t, s, writes)
		k1 := signingKey(live, "k1", 100)
		k1.UseFrom = at(50)
		wantKeys(t, s, live, k1)
	}},
	{"OIDCWritesThatChangeNothingAppendNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess, ended := appSession(t, s, u, "tok"), appSession(t, s, u, "ended")
		c := newClient(t, s, live, "hmis-app", backchannel)
		r := signInTo(t, s, c, sess, "req-1")
		a, rt := issue(t, s, r)
		rotate(t, s, rt, "rt-2", "at-2", 60)
		pending := newRequest(t, s, c, "pending")
		fresh := signInTo(t, s, c, sess, "fresh")
		endedReq := signInTo(t, s, c, ended, "ended-req")
		must(t, s.DeleteSession(t.Context(), ended.ID, true))
		ns, err := s.ClaimLogouts(t.Context(), at(3600), time.Minute, 10)
		must(t, err)
		if len(ns) != 1 || ns[0].SID != ended.SID {
			t.Fatalf("claimed %d notices, want the ended session's", len(ns))
		}
		sent := ns[0]
		must(t, s.LogoutSent(t.Context(), sent, at(5)))
		addKey(t, s, signingKey(live, "k1", 100), true)
		ev := event("test", "jdoe", "must not be written", 1)
		writes := []struct {
			name, code string
			write      func(ctx context.Context) error
		}{
			{"CreateClient of a taken ID", hmisauth.ECONFLICT, func(ctx context.Context) error { return s.CreateClient(ctx, appClient(live, "hmis-app")) }},
			{"UpdateClient of none", hmisauth.ENOTFOUND, func(ctx context.Context) error { return s.UpdateClient(ctx, appClient(live, "nope")) }},
			{"DeleteClient of none", hmisauth.ENOTFOUND, func(ctx context.Context) error { return s.DeleteClient(ctx, training, "hmis-app") }},
			{"CreateAuthRequest of no client", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.CreateAuthRequest(ctx, authRequest(appClient(live, "nope"), "r9"))
			}},
			{"CompleteAuthRequest done already", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.CompleteAuthRequest(ctx, r.ID, u.ID, sess.ID, t0, nil, at(3))
			}},
			{"SaveAuthCode of an unfinished request", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.SaveAuthCode(ctx, pending.ID, codeHash("x"))
			}},
			{"UseAuthCode of an unknown code", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return second(s.UseAuthCode(ctx, codeHash("nope"), at(3)))
			}},
			{"UseAuthCode that redeems (the events are a replay's)", "", func(ctx context.Context) error {
				return second(s.UseAuthCode(ctx, fresh.CodeHash, at(3)))
			}},
			{"IssueTokens for an ended session", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.IssueTokens(ctx, accessFor(endedReq, "at-x"), nil)
			}},
			{"RotateRefreshToken of an unknown token", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				next, a := nextTokens(rt, "rt-x", "at-x", 90)
				return s.RotateRefreshToken(ctx, tokenHash("nope"), at(90), next, a)
			}},
			{"RotateRefreshToken reused (revokes, appends nothing)", hmisauth.ERefreshReused, func(ctx context.Context) error {
				next, a := nextTokens(rt, "rt-x", "at-x", 90)
				return s.RotateRefreshToken(ctx, rt.Hash, at(90), next, a)
			}},
			{"RevokeFamily of none", "", func(ctx context.Context) error { return second(s.RevokeFamily(ctx, live, "fam-req-1")) }},
			{"RevokeAccessToken of none", "", func(ctx context.Context) error { return second(s.RevokeAccessToken(ctx, live, "nope")) }},
			{"ClaimLogouts with none due", "", func(ctx context.Context) error {
				return second(s.ClaimLogouts(ctx, at(3600), time.Minute, 10))
			}},
			{"LogoutSent of a sent notice", hmisauth.ECONFLICT, func(ctx context.Context) error { return s.LogoutSent(ctx, sent, at(6)) }},
			{"LogoutFailed of a sent notice", hmisauth.ECONFLICT, func(ctx context.Context) error { return s.LogoutFailed(ctx, sent, at(60), "x") }},
			{"AbandonLogout of a sent notice", hmisauth.ECONFLICT, func(ctx context.Context) error { return s.AbandonLogout(ctx, sent, at(60), "x") }},
			{"LogoutSent of none", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.LogoutSent(ctx, &hmisauth.LogoutNotice{ID: 999, Attempts: 1, LeasedUntil: at(3660)}, at(6))
			}},
			{"AddSigningKey not newer", "", func(ctx context.Context) error { return second(s.AddSigningKey(ctx, signingKey(live, "k0", 0))) }},
			{"UseSigningKeyFrom of none", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.UseSigningKeyFrom(ctx, live, "nope", at(1))
			}},
			{"DeleteSigningKeys of none", "", func(ctx context.Context) error { return s.DeleteSigningKeys(ctx, live, at(200)) }},
			{"DeleteExpiredOIDC of none", "", func(ctx context.Context) error { return s.DeleteExpiredOIDC(ctx, at(1), at(1)) }},
		}
		for _, w := range writes {
			if err := w.write(carrying(t, ev)); hmisauth.ErrorCode(err) != w.code {
				t.Errorf("%s: %v, want code %q", w.name, err, w.code)
			}
			if ev.ID != 0 || ev.Hash != nil {
				t.Fatalf("%s changed nothing, yet its event has ID %d", w.name, ev.ID)
			}
		}
		wantDetails(t, s)
		wantAccess(t, s, map[string]bool{a.ID: true, "at-2": false})
	}},
	{"OnlyAReplayAppendsItsEventsWithTheRevocation", func(t *testing.T, s hmisauth.Store) {
		f := newCodeFixture(t, s)
		r := signInTo(t, s, f.c, f.sess, "req-1")
		first := event(hmisauth.EventCodeReplayed, "jdoe", "not a replay", 1)
		got, err := s.UseAuthCode(carrying(t, first), r.CodeHash, at(2))
		must(t, err)
		if first.ID != 0 {
			t.Fatalf("a redemption appended its replay event (ID %d)", first.ID)
		}
		must(t, s.IssueTokens(t.Context(), accessFor(got, "at-1"), nil))
		replay := event(hmisauth.EventCodeReplayed, "jdoe", "replayed", 2)
		_, err = s.UseAuthCode(carrying(t, replay), r.CodeHash, at(3))
		wantCode(t, err, hmisauth.ECodeReplayed)
		wantDetails(t, s, "replayed")
		wantAccess(t, s, map[string]bool{"at-1": false})
	}},
}
