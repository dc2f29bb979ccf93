package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Lifetimes of what the provider hands out.
const (
	// authRequestTTL is how long a browser has to sign in (and do what its first sign-in
	// asks: terms, a new password, 2-step set-up) before the application must start again.
	authRequestTTL = 30 * time.Minute
	// codeTTL is how long a code works once the user signed in (RFC 6749 asks for minutes).
	codeTTL = 5 * time.Minute
	// defaultAccessTokenLifetime is a client's access-token lifetime unless it sets one.
	defaultAccessTokenLifetime = 10 * time.Minute
	// touchEvery matches auth's: tokens count as use of the session at most this often.
	touchEvery = time.Minute
)

// familyPrefix marks a refresh family's ID where the library passes token IDs around.
const familyPrefix = "family-"

// storage is op.Storage for one site.
type storage struct {
	sp *siteProvider
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

func (s *storage) now() time.Time                   { return s.sp.p.clock.Now() }
func (s *storage) store() hmisauth.Store            { return s.sp.p.store }
func (s *storage) siteKey() string                  { return s.sp.site.Key }
func (s *storage) site() *hmisauth.Site             { return s.sp.site }
func (s *storage) Health(ctx context.Context) error { return s.store().Ping(ctx) }

// randomID is 128 random bits in base64url: IDs that travel in URLs and token bodies (never
// with a ':', which the library's opaque-token format splits on).
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomToken is 256 random bits in base64url: refresh tokens and client secrets.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateAuthRequest stores an authorization request the library has checked (client,
// redirect URI, scopes, response type), after the checks it leaves to us: PKCE with S256
// only (and required for public clients), answers in the query only, and the browser the
// request is bound to.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	c, err := s.sp.loadClient(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown client")
	}
	browser := browserFrom(ctx)
	if browser == "" {
		return nil, oidc.ErrServerError().WithDescription("the browser could not be recognised")
	}
	switch {
	case req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery:
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case c.Public && req.CodeChallenge == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("this client must use PKCE (code_challenge with S256)")
	}
	scopes := slices.Clone([]string(req.Scopes))
	if c.RefreshTokens && !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	maxAge := time.Duration(-1)
	if req.MaxAge != nil {
		maxAge = time.Duration(*req.MaxAge) * time.Second
	}
	now := s.now()
	ar := &hmisauth.AuthRequest{ID: randomID(), Site: s.siteKey(), ClientID: c.ID, RedirectURI: req.RedirectURI,
		Scopes: scopes, State: req.State, Nonce: req.Nonce, ResponseType: string(req.ResponseType),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt: []string(req.Prompt), MaxAge: maxAge, LoginHint: truncate(req.LoginHint, 200), HintSubject: hintSubject,
		BrowserHash: auth.HashToken(browser), CreatedAt: now, ExpiresAt: now.Add(authRequestTTL)}
	if err := s.store().CreateAuthRequest(ctx, ar); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &authRequest{r: ar}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// AuthRequestByID is used by the library's callback only, which this provider does not serve
// (Continue answers in its place); it finds a live request of the site all the same.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	ar, err := s.store().AuthRequest(ctx, id)
	if err != nil || ar.Site != s.siteKey() || !s.now().Before(ar.ExpiresAt) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired request")
	}
	return &authRequest{r: ar}, nil
}

// AuthRequestByCode redeems a code, once. A code this site did not make is refused before
// anything is looked up (each site encrypts its codes with its own key); a code used before
// revokes what it gave (RFC 6749 §4.1.2).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if _, err := s.sp.op.Crypto().Decrypt(code); err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	now := s.now()
	replay := s.event(ctx, hmisauth.EventCodeReplayed, "",
		"a code was redeemed a second time: every token issued from it was revoked")
	ar, err := s.store().UseAuthCode(hmisauth.WithEvent(ctx, replay), auth.HashToken(code), now)
	switch hmisauth.ErrorCode(err) {
	case "":
	case hmisauth.ECodeReplayed:
		s.sp.p.log.WarnContext(ctx, "authorization code replayed: its tokens were revoked", "site", s.siteKey())
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	case hmisauth.ENOTFOUND:
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	default:
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if ar.Site != s.siteKey() || now.Sub(ar.DoneAt) > codeTTL {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid or expired code")
	}
	u, sess, err := s.userSession(ctx, ar.UserID, ar.SessionID)
	if err != nil {
		return nil, err
	}
	return &authRequest{r: ar, subject: u.Subject, username: u.Username, session: sess}, nil
}

// userSession loads a token's user and the session it came from; a session that ended or
// timed out is invalid_grant: nothing an application holds outlives it.
func (s *storage) userSession(ctx context.Context, userID, sessionID int64) (*hmisauth.User, *hmisauth.Session, error) {
	sess, err := s.store().Session(ctx, sessionID)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND || (err == nil && sess.UserID != userID) {
		return nil, nil, oidc.ErrInvalidGrant().WithDescription("the sign-in this came from has ended")
	} else if err != nil {
		return nil, nil, oidc.ErrServerError().WithParent(err)
	}
	now, pol := s.now(), s.site().Policy.Session
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(pol.Idle)) {
		return nil, nil, oidc.ErrInvalidGrant().WithDescription("the sign-in this came from has timed out")
	}
	u, err := s.store().UserByID(ctx, userID)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, nil, oidc.ErrInvalidGrant().WithDescription("the user is gone")
	} else if err != nil {
		return nil, nil, oidc.ErrServerError().WithParent(err)
	}
	if reason, err := s.sp.p.auth.Blocked(ctx, s.site(), u); err != nil {
		return nil, nil, oidc.ErrServerError().WithParent(err)
	} else if reason != "" {
		return nil, nil, oidc.ErrInvalidGrant().WithDescription("the user may not sign in now")
	}
	return u, sess, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.store().SaveAuthCode(ctx, id, auth.HashToken(code))
}

// DeleteAuthRequest keeps the request: a redeemed code must still be recognised if it comes
// again. DeleteExpiredOIDC removes it later.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// CreateAccessToken issues an access token for a redeemed code (no refresh token).
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	id, _, exp, err := s.issue(ctx, ar, false)
	return id, exp, err
}

// CreateAccessAndRefreshTokens issues tokens for a redeemed code, or rotates a refresh token.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	switch r := req.(type) {
	case *authRequest:
		return s.issue(ctx, r, true)
	case *refreshRequest:
		return s.rotate(ctx, r, current)
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// issue stores the tokens of a redeemed code in one step, with its audit event; the store
// refuses if the session ended or the code was replayed meanwhile.
func (s *storage) issue(ctx context.Context, ar *authRequest, refresh bool) (string, string, time.Time, error) {
	c, err := s.sp.loadClient(ctx, ar.r.ClientID)
	if err != nil {
		return "", "", time.Time{}, oidc.ErrInvalidClient()
	}
	now := s.now()
	sess := s.touch(ctx, ar.session, now)
	at := &hmisauth.AccessToken{ID: randomID(), Site: s.siteKey(), ClientID: c.ID, UserID: ar.r.UserID,
		SessionID: sess.ID, AuthRequestID: ar.r.ID, Scopes: ar.r.Scopes, CreatedAt: now,
		ExpiresAt: s.tokenExpiry(c, sess, now)}
	var rt *hmisauth.RefreshToken
	var token string
	detail := fmt.Sprintf("%s: access token until %s", clientLabel(c), s.clockText(at.ExpiresAt))
	if refresh {
		token = randomToken()
		rt = &hmisauth.RefreshToken{Hash: auth.HashToken(token), Family: randomID(), Site: s.siteKey(), ClientID: c.ID,
			UserID: ar.r.UserID, SessionID: sess.ID, AuthRequestID: ar.r.ID, Scopes: ar.r.Scopes,
			AuthTime: ar.r.AuthTime, AMR: ar.r.AMR, CreatedAt: now, ExpiresAt: sess.ExpiresAt}
		at.Family = rt.Family
		detail += ", and a refresh token"
	}
	ctx = hmisauth.WithEvent(ctx, s.appEvent(ctx, c, ar.username, hmisauth.EventTokensIssued, detail))
	switch err := s.store().IssueTokens(ctx, at, rt); hmisauth.ErrorCode(err) {
	case "":
		return at.ID, token, at.ExpiresAt, nil
	case hmisauth.ENOTFOUND:
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the sign-in this code came from has ended")
	default:
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
}

// rotate uses a refresh token: the next one of its family and a new access token, in one
// store step that exactly one of parallel uses wins; a used token again revokes the family.
func (s *storage) rotate(ctx context.Context, r *refreshRequest, current string) (string, string, time.Time, error) {
	c, err := s.sp.loadClient(ctx, r.t.ClientID)
	if err != nil {
		return "", "", time.Time{}, oidc.ErrInvalidClient()
	}
	now := s.now()
	sess := s.touch(ctx, r.session, now)
	token := randomToken()
	next := &hmisauth.RefreshToken{Hash: auth.HashToken(token), Family: r.t.Family, Site: s.siteKey(), ClientID: c.ID,
		UserID: r.t.UserID, SessionID: r.t.SessionID, AuthRequestID: r.t.AuthRequestID, Scopes: r.t.Scopes,
		AuthTime: r.t.AuthTime, AMR: r.t.AMR, CreatedAt: now, ExpiresAt: sess.ExpiresAt}
	at := &hmisauth.AccessToken{ID: randomID(), Site: s.siteKey(), ClientID: c.ID, UserID: r.t.UserID,
		SessionID: r.t.SessionID, AuthRequestID: r.t.AuthRequestID, Family: r.t.Family, Scopes: r.scopes,
		CreatedAt: now, ExpiresAt: s.tokenExpiry(c, sess, now)}
	ev := s.appEvent(ctx, c, r.username, hmisauth.EventTokensRefreshed,
		fmt.Sprintf("%s: access token until %s", clientLabel(c), s.clockText(at.ExpiresAt)))
	err = s.store().RotateRefreshToken(hmisauth.WithEvent(ctx, ev), auth.HashToken(current), now, next, at)
	switch hmisauth.ErrorCode(err) {
	case "":
		return at.ID, token, at.ExpiresAt, nil
	case hmisauth.ERefreshReused:
		s.reused(ctx, c, r.t)
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	case hmisauth.ENOTFOUND:
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	default:
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
}

// reused records that a rotated refresh token came again (the store revoked its family).
func (s *storage) reused(ctx context.Context, c *hmisauth.Client, t *hmisauth.RefreshToken) {
	s.sp.p.log.WarnContext(ctx, "refresh token reused: its family was revoked", "site", s.siteKey(), "client", c.ID)
	ev := s.userEvent(ctx, c, t.UserID, hmisauth.EventRefreshReused,
		clientLabel(c)+": a refresh token already used came again, so every token of that sign-in was revoked")
	if err := s.store().AppendEvents(ctx, ev); err != nil {
		s.sp.p.log.ErrorContext(ctx, "audit log append failed", "err", err, "action", ev.Action)
	}
}

// touch records a token grant as use of the session (at most once a minute), so an application
// that keeps refreshing keeps the sign-in alive, and returns the session as of now.
func (s *storage) touch(ctx context.Context, sess *hmisauth.Session, now time.Time) *hmisauth.Session {
	if now.Sub(sess.LastSeenAt) < touchEvery {
		return sess
	}
	if err := s.store().TouchSession(ctx, sess.ID, now); err != nil {
		s.sp.p.log.WarnContext(ctx, "touching the session failed", "err", err)
		return sess
	}
	touched := *sess
	touched.LastSeenAt = now
	return &touched
}

// tokenExpiry is when an access token issued now expires: the client's lifetime, but never
// after the session's absolute limit or its idle limit.
func (s *storage) tokenExpiry(c *hmisauth.Client, sess *hmisauth.Session, now time.Time) time.Time {
	life := c.AccessTokenLifetime
	if life <= 0 {
		life = defaultAccessTokenLifetime
	}
	exp := now.Add(life)
	for _, limit := range []time.Time{sess.ExpiresAt, sess.LastSeenAt.Add(s.site().Policy.Session.Idle)} {
		if limit.Before(exp) {
			exp = limit
		}
	}
	return exp
}

// TokenRequestByRefreshToken checks a refresh token before it is used: unknown, of another
// site, expired, or from a session that ended are invalid_grant; one already rotated is reuse
// and revokes its family.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	if token == "" || len(token) > 200 {
		return nil, oidc.ErrInvalidGrant()
	}
	t, err := s.store().RefreshToken(ctx, auth.HashToken(token))
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	now := s.now()
	switch {
	case t.Site != s.siteKey() || !now.Before(t.ExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	case !t.RotatedAt.IsZero():
		c := &hmisauth.Client{ID: t.ClientID, Name: t.ClientID}
		if found, err := s.store().RevokeFamily(ctx, s.siteKey(), t.Family); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		} else if found {
			s.reused(ctx, c, t)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	u, sess, err := s.userSession(ctx, t.UserID, t.SessionID)
	if err != nil {
		return nil, err
	}
	return &refreshRequest{t: t, subject: u.Subject, username: u.Username, session: sess, scopes: t.Scopes}, nil
}

// TerminateSession is not used: TerminateSessionFromRequest is.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest is RP-initiated logout. The library has checked the
// id_token_hint and the post-logout address; the browser's session (which Handler's caller
// put in the context) ends when the hint names its user. Without a matching hint the user is
// asked first, on the site's sign-out page: any web page could send a browser here.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	bs := sessionFrom(ctx)
	if bs == nil || bs.principal == nil {
		return req.RedirectURI, nil
	}
	p := bs.principal
	if req.IDTokenHintClaims == nil || req.IDTokenHintClaims.Subject != p.User.Subject {
		return "/" + s.siteKey() + "/logout", nil
	}
	app := req.ClientID
	if c, err := s.store().Client(ctx, s.siteKey(), req.ClientID); err == nil {
		app = clientLabel(c)
	}
	if err := s.sp.p.auth.LogoutFrom(ctx, p, app); err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	bs.signedOut()
	s.sp.p.kick()
	return req.RedirectURI, nil
}

// GetRefreshTokenInfo finds a refresh token for the revocation endpoint: its family is what
// is revoked. A token of another client or site is unknown here.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := s.store().RefreshToken(ctx, auth.HashToken(token))
	if err != nil || t.Site != s.siteKey() || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	u, err := s.store().UserByID(ctx, t.UserID)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return u.Subject, familyPrefix + t.Family, nil
}

// RevokeToken revokes a refresh family, or an access token, of the calling client. Unknown
// tokens are not an error (RFC 7009 §2.2).
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	c, err := s.sp.loadClient(ctx, clientID)
	if err != nil {
		return oidc.ErrInvalidClient()
	}
	if family, ok := strings.CutPrefix(tokenOrID, familyPrefix); ok {
		ev := s.event(ctx, hmisauth.EventTokenRevoked, "", clientLabel(c)+" revoked a refresh token and its access tokens")
		if _, err := s.store().RevokeFamily(hmisauth.WithEvent(ctx, ev), s.siteKey(), family); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	at, err := s.store().AccessToken(ctx, tokenOrID)
	if err != nil || at.Site != s.siteKey() {
		return nil
	}
	if at.ClientID != clientID {
		return oidc.ErrInvalidRequest().WithDescription("the token was not issued to this client")
	}
	ev := s.userEvent(ctx, c, at.UserID, hmisauth.EventTokenRevoked, clientLabel(c)+" revoked an access token")
	if _, err := s.store().RevokeAccessToken(hmisauth.WithEvent(ctx, ev), s.siteKey(), at.ID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.sp.p.signing.signingKey(ctx, s.siteKey())
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	return s.sp.p.signing.keySet(ctx, s.siteKey())
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.sp.loadClient(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{c: c, site: s.siteKey()}, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret, in constant time, against the
// current and (during a rotation) the previous one.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.sp.loadClient(ctx, id)
	if err != nil {
		return err
	}
	if !secretMatches(c, secret) {
		return errUnknownClient()
	}
	return nil
}

// GetKeyByIDAndClientID always refuses: no client authenticates with a private key, and this
// keeps the library's JWT-bearer grant closed.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt and JWT-bearer grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT-bearer grants are not supported")
}
