package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The OpenID Connect fixtures: clients, a session that signs in to them, authorization
// requests finished with a code, and the tokens issued from them.

// backchannel gives a client a back-channel logout URI of its own.
func backchannel(c *hmisauth.Client) {
	c.BackchannelLogoutURI = "https://" + c.ID + ".example.org/oidc/backchannel"
}

// appClient is a confidential client of site, not yet registered.
func appClient(site, id string) *hmisauth.Client {
	return &hmisauth.Client{
		Site: site, ID: id, Name: "App " + id, HomeURL: "https://" + id + ".example.org/",
		RedirectURIs:      []string{"https://" + id + ".example.org/oidc/callback"},
		SecretHash:        tokenHash("secret:" + id),
		AccessTokenFormat: hmisauth.TokenOpaque, AccessTokenLifetime: 10 * time.Minute,
		RefreshTokens: true, CreatedAt: t0, UpdatedAt: t0,
	}
}

// newClient registers a confidential client on site, after applying the options.
func newClient(t *testing.T, s hmisauth.Store, site, id string, opts ...func(*hmisauth.Client)) *hmisauth.Client {
	t.Helper()
	c := appClient(site, id)
	for _, o := range opts {
		o(c)
	}
	must(t, s.CreateClient(t.Context(), c))
	return c
}

// appSession creates a session of u with a sid and AMR, as a sign-in for an application makes.
func appSession(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string) *hmisauth.Session {
	t.Helper()
	sess := &hmisauth.Session{
		Site: u.Site, UserID: u.ID, TokenHash: tokenHash(token),
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour), ReauthAt: t0,
		ClientAddr: "192.0.2.10", UserAgent: "Mozilla/5.0 (test)",
		SID: "sid-" + token, AMR: []string{"pwd", "otp", "mfa"},
	}
	must(t, s.CreateSession(t.Context(), sess, false))
	return sess
}

// authRequest is a new authorization request of c with the given ID, expiring at t0+600s.
func authRequest(c *hmisauth.Client, id string) *hmisauth.AuthRequest {
	return &hmisauth.AuthRequest{
		ID: id, Site: c.Site, ClientID: c.ID, RedirectURI: c.RedirectURIs[0],
		Scopes: []string{"openid", "profile", "offline_access"}, State: "state-" + id, Nonce: "nonce-" + id,
		ResponseType: "code", CodeChallenge: "challenge-" + id, CodeChallengeMethod: "S256",
		MaxAge: -1, BrowserHash: tokenHash("browser"), CreatedAt: t0, ExpiresAt: at(600),
	}
}

func newRequest(t *testing.T, s hmisauth.Store, c *hmisauth.Client, id string) *hmisauth.AuthRequest {
	t.Helper()
	r := authRequest(c, id)
	must(t, s.CreateAuthRequest(t.Context(), r))
	return r
}

// codeHash stands in for the SHA-256 of the code handed out for request id.
func codeHash(id string) []byte { return tokenHash("code:" + id) }

// signInTo is one sign-in for c in sess: the request id is made, finished at t0+1s and given
// its code (codeHash(id)). It returns the request as the store now holds it.
func signInTo(t *testing.T, s hmisauth.Store, c *hmisauth.Client, sess *hmisauth.Session, id string) *hmisauth.AuthRequest {
	t.Helper()
	r := newRequest(t, s, c, id)
	must(t, s.CompleteAuthRequest(t.Context(), id, sess.UserID, sess.ID, t0, sess.AMR, at(1)))
	must(t, s.SaveAuthCode(t.Context(), id, codeHash(id)))
	r.UserID, r.SessionID, r.AuthTime, r.AMR, r.DoneAt, r.CodeHash = sess.UserID, sess.ID, t0, sess.AMR, at(1), codeHash(id)
	return r
}

// redeem uses the request's code at t0+2s.
func redeem(t *testing.T, s hmisauth.Store, r *hmisauth.AuthRequest) *hmisauth.AuthRequest {
	t.Helper()
	got, err := s.UseAuthCode(t.Context(), r.CodeHash, at(2))
	must(t, err)
	return got
}

// accessFor is an access token named id issued from r, expiring after ten minutes.
func accessFor(r *hmisauth.AuthRequest, id string) *hmisauth.AccessToken {
	return &hmisauth.AccessToken{ID: id, Site: r.Site, ClientID: r.ClientID, UserID: r.UserID,
		SessionID: r.SessionID, AuthRequestID: r.ID, Scopes: r.Scopes, CreatedAt: at(2), ExpiresAt: at(602)}
}

// refreshFor is the refresh token (by the hash of token) that begins family for r, expiring
// with the session.
func refreshFor(r *hmisauth.AuthRequest, token, family string) *hmisauth.RefreshToken {
	return &hmisauth.RefreshToken{Hash: tokenHash(token), Family: family, Site: r.Site, ClientID: r.ClientID,
		UserID: r.UserID, SessionID: r.SessionID, AuthRequestID: r.ID, Scopes: r.Scopes,
		AuthTime: r.AuthTime, AMR: r.AMR, CreatedAt: at(2), ExpiresAt: t0.Add(12 * time.Hour)}
}

// issue redeems r's code and issues an access token "at-"+r.ID and a refresh token
// "rt-"+r.ID beginning family "fam-"+r.ID.
func issue(t *testing.T, s hmisauth.Store, r *hmisauth.AuthRequest) (*hmisauth.AccessToken, *hmisauth.RefreshToken) {
	t.Helper()
	redeem(t, s, r)
	a, rt := accessFor(r, "at-"+r.ID), refreshFor(r, "rt-"+r.ID, "fam-"+r.ID)
	must(t, s.IssueTokens(t.Context(), a, rt))
	return a, rt
}

// rotate uses the refresh token old at t0+sec for the refresh token next and an access token
// named atID, and returns them.
func rotate(t *testing.T, s hmisauth.Store, old *hmisauth.RefreshToken, next string, atID string, sec int) (*hmisauth.RefreshToken, *hmisauth.AccessToken) {
	t.Helper()
	rt, a := nextTokens(old, next, atID, sec)
	must(t, s.RotateRefreshToken(t.Context(), old.Hash, at(sec), rt, a))
	return rt, a
}

// nextTokens are what a refresh with old at t0+sec stores: the refresh token next of its family
// and the access token atID refreshed in it.
func nextTokens(old *hmisauth.RefreshToken, next, atID string, sec int) (*hmisauth.RefreshToken, *hmisauth.AccessToken) {
	rt := *old
	rt.Hash, rt.CreatedAt, rt.RotatedAt = tokenHash(next), at(sec), time.Time{}
	a := &hmisauth.AccessToken{ID: atID, Site: old.Site, ClientID: old.ClientID, UserID: old.UserID,
		SessionID: old.SessionID, AuthRequestID: old.AuthRequestID, Family: old.Family, Scopes: old.Scopes,
		CreatedAt: at(sec), ExpiresAt: at(sec + 600)}
	return &rt, a
}

// wantAccess checks which access tokens are alive (true) or unknown (false).
func wantAccess(t *testing.T, s hmisauth.Store, want map[string]bool) {
	t.Helper()
	for id, alive := range want {
		_, err := s.AccessToken(t.Context(), id)
		switch code := hmisauth.ErrorCode(err); {
		case alive && err != nil:
			t.Errorf("access token %q: %v, want it alive", id, err)
		case !alive && code != hmisauth.ENOTFOUND:
			t.Errorf("access token %q: error %v, want it gone (not_found)", id, err)
		}
	}
}

// wantRefresh checks which refresh tokens (by token) are stored (true) or unknown (false).
func wantRefresh(t *testing.T, s hmisauth.Store, want map[string]bool) {
	t.Helper()
	for token, alive := range want {
		_, err := s.RefreshToken(t.Context(), tokenHash(token))
		switch code := hmisauth.ErrorCode(err); {
		case alive && err != nil:
			t.Errorf("refresh token %q: %v, want it stored", token, err)
		case !alive && code != hmisauth.ENOTFOUND:
			t.Errorf("refresh token %q: error %v, want it gone (not_found)", token, err)
		}
	}
}

// logouts is every logout notice in the store, newest first.
func logouts(t *testing.T, s hmisauth.Store) []*hmisauth.LogoutNotice {
	t.Helper()
	ns, err := s.LogoutNotices(t.Context(), 1000)
	must(t, err)
	return ns
}

// notice is the logout notice ending sess owes c, made at when, as queued.
func notice(c *hmisauth.Client, u *hmisauth.User, sess *hmisauth.Session, when time.Time) *hmisauth.LogoutNotice {
	return &hmisauth.LogoutNotice{Site: c.Site, ClientID: c.ID, URI: c.BackchannelLogoutURI,
		Subject: u.Subject, SID: sess.SID, CreatedAt: when, NextAttemptAt: when}
}

// wantLogouts checks the store holds exactly the notices, newest first, whatever their IDs.
func wantLogouts(t *testing.T, s hmisauth.Store, want ...*hmisauth.LogoutNotice) []*hmisauth.LogoutNotice {
	t.Helper()
	got := logouts(t, s)
	if len(got) != len(want) {
		t.Fatalf("%d logout notices, want %d: %s", len(got), len(want), describe(got))
	}
	for i := range got {
		w := *want[i]
		w.ID = got[i].ID
		equal(t, fmt.Sprintf("notice %d", i), got[i], &w)
	}
	return got
}

func describe(ns []*hmisauth.LogoutNotice) string {
	out := ""
	for _, n := range ns {
		out += fmt.Sprintf("[%s %s sid=%s]", n.Site, n.ClientID, n.SID)
	}
	return out
}

// claimNotices claims logout notices at now with a one-minute lease and returns their IDs.
func claimNotices(t *testing.T, s hmisauth.Store, now time.Time, limit int) []int64 {
	t.Helper()
	ns, err := s.ClaimLogouts(t.Context(), now, time.Minute, limit)
	must(t, err)
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}
