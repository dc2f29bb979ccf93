package sqlite_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// grant is one sign-in to an application: its session, redeemed request and tokens.
type grant struct {
	sess *hmisauth.Session
	req  *hmisauth.AuthRequest
	at   *hmisauth.AccessToken
	rt   *hmisauth.RefreshToken
}

// signIn signs u in to the client hmis-app (made on first use) in a new session with token,
// redeems the code and issues an access and a refresh token.
func signIn(tb testing.TB, s *sqlite.Store, u *hmisauth.User, token string) grant {
	tb.Helper()
	ctx := tb.Context()
	if _, err := s.Client(ctx, u.Site, "hmis-app"); hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		if err := s.CreateClient(ctx, &hmisauth.Client{Site: u.Site, ID: "hmis-app", Name: "HMIS",
			RedirectURIs: []string{"https://hmis.example.org/oidc/callback"}, SecretHash: digest("secret"),
			BackchannelLogoutURI: "https://hmis.example.org/oidc/backchannel", AccessTokenFormat: hmisauth.TokenOpaque,
			AccessTokenLifetime: 10 * time.Minute, RefreshTokens: true, CreatedAt: benchNow}); err != nil {
			tb.Fatal(err)
		}
	}
	g := grant{sess: &hmisauth.Session{Site: u.Site, UserID: u.ID, TokenHash: digest("session " + token),
		CreatedAt: benchNow, LastSeenAt: benchNow, ExpiresAt: benchNow.Add(12 * time.Hour),
		SID: "sid-" + token, AMR: []string{"pwd"}}}
	g.req = &hmisauth.AuthRequest{ID: "req-" + token, Site: u.Site, ClientID: "hmis-app",
		RedirectURI: "https://hmis.example.org/oidc/callback", Scopes: []string{"openid", "profile", "email", "hmis"},
		ResponseType: "code", CodeChallenge: "challenge", CodeChallengeMethod: "S256", MaxAge: -1,
		CreatedAt: benchNow, ExpiresAt: benchNow.Add(10 * time.Minute)}
	for _, err := range []error{
		s.CreateSession(ctx, g.sess, false),
		s.CreateAuthRequest(ctx, g.req),
		s.CompleteAuthRequest(ctx, g.req.ID, u.ID, g.sess.ID, benchNow, g.sess.AMR, benchNow),
		s.SaveAuthCode(ctx, g.req.ID, digest("code "+token)),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
	req, err := s.UseAuthCode(ctx, digest("code "+token), benchNow)
	if err != nil {
		tb.Fatal(err)
	}
	g.req = req
	g.at = &hmisauth.AccessToken{ID: "at-" + token, Site: u.Site, ClientID: "hmis-app", UserID: u.ID,
		SessionID: g.sess.ID, AuthRequestID: req.ID, Scopes: req.Scopes, CreatedAt: benchNow,
		ExpiresAt: benchNow.Add(10 * time.Minute)}
	g.rt = &hmisauth.RefreshToken{Hash: digest("refresh " + token), Family: "family-" + token, Site: u.Site,
		ClientID: "hmis-app", UserID: u.ID, SessionID: g.sess.ID, AuthRequestID: req.ID, Scopes: req.Scopes,
		AuthTime: benchNow, AMR: g.sess.AMR, CreatedAt: benchNow, ExpiresAt: g.sess.ExpiresAt}
	if err := s.IssueTokens(ctx, g.at, g.rt); err != nil {
		tb.Fatal(err)
	}
	return g
}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
