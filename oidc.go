package hmisauth

import "time"

// OpenID Connect: each site is an issuer, and the applications that sign their users in
// through it are its clients. These are the provider's records; oidc/ turns them into the
// protocol and auth/ keeps the sign-in rules.

// Access-token formats a client may get.
const (
	TokenOpaque = "opaque" // a random reference, checked at introspection and userinfo
	TokenJWT    = "jwt"    // a signed JWT the application can check itself
)

// Client is an application registered on a site (an OpenID Connect relying party).
type Client struct {
	Site string
	ID   string // the client_id, unique per site
	Name string // what users see: "HMIS", "Coordinated Entry"
	// HomeURL is where the account page sends a user who signed in here directly.
	HomeURL                string
	RedirectURIs           []string // exact match
	PostLogoutRedirectURIs []string // exact match
	// BackchannelLogoutURI receives a logout token when a session signed in to it ends.
	BackchannelLogoutURI string
	// Public clients (a single-page or native app) hold no secret and must use PKCE.
	Public bool
	// SecretHash is the SHA-256 of the secret (256 random bits, shown once); OldSecretHash the
	// previous one while a rotation is under way (both work), nil otherwise.
	SecretHash    []byte
	OldSecretHash []byte
	// Scopes the client may ask for besides openid; empty: every scope the site offers.
	Scopes              []string
	AccessTokenFormat   string        // TokenOpaque or TokenJWT
	AccessTokenLifetime time.Duration // at most the session's remaining lifetime
	// RefreshTokens gives the client a refresh token at every sign-in; without it only a
	// request with offline_access gets one.
	RefreshTokens bool
	// FromConfig is set for clients declared in the configuration file, which start-up syncs
	// (and which the command line and console leave alone).
	FromConfig bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AuthRequest is one authorization request of a client, from the moment the application sends
// the browser here until its code is redeemed. It is bound to the browser that started it: a
// request finished in another browser is refused.
type AuthRequest struct {
	ID                  string // random, opaque: it travels in URLs
	Site                string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	// MaxAge is the max_age parameter; -1 when not given.
	MaxAge    time.Duration
	LoginHint string
	// HintSubject is the sub of a valid id_token_hint: only that user may finish the request.
	HintSubject string
	// BrowserHash is the SHA-256 of the browser's binding cookie.
	BrowserHash []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time

	// Set once the user signed in (CompleteAuthRequest).
	UserID    int64
	SessionID int64
	AuthTime  time.Time
	AMR       []string
	DoneAt    time.Time

	// The code handed to the application, by hash; used once (UseAuthCode).
	CodeHash   []byte
	CodeUsedAt time.Time
}

// Done reports whether the user has signed in for this request.
func (r *AuthRequest) Done() bool { return !r.DoneAt.IsZero() }

// AccessToken is an access token's record: an opaque token refers to it, a JWT carries its ID
// as jti. Revoking the record makes the token worthless at userinfo and introspection.
type AccessToken struct {
	ID        string // random
	Site      string
	ClientID  string
	UserID    int64
	SessionID int64 // the hmisauth session it came from: it dies with it
	// AuthRequestID is the authorization request whose code gave it (replaying the code
	// revokes it); Family the refresh-token family it was refreshed in, "" for none.
	AuthRequestID string
	Family        string
	Scopes        []string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// RefreshToken is a refresh token's record, stored by the hash of the token. Every use
// rotates it: the next token joins the same Family, and a rotated token used again revokes the
// whole family.
type RefreshToken struct {
	Hash          []byte
	Family        string
	Site          string
	ClientID      string
	UserID        int64
	SessionID     int64
	AuthRequestID string
	Scopes        []string // as granted at sign-in
	AuthTime      time.Time
	AMR           []string
	CreatedAt     time.Time
	ExpiresAt     time.Time // the session's absolute limit
	RotatedAt     time.Time // zero while it is the family's live token
}

// SigningKey is one of a site's keys for signing ID tokens (and JWT access tokens). The newest
// key whose UseFrom has come signs; the next one is published before it signs, and the
// previous one stays published a while after, so no client meets an unknown key.
type SigningKey struct {
	ID        string // kid
	Site      string
	Algorithm string // RS256
	// Private is the PKCS #8 private key sealed with the server key; Public the PKIX public
	// key, published in the JWKS.
	Private   []byte
	Public    []byte
	UseFrom   time.Time
	CreatedAt time.Time
}

// LogoutNotice is a back-channel logout owed to a client: the session SID of the user Subject
// ended. A worker delivers it (a signed logout token POSTed to URI) with retries, like the
// e-mail outbox.
type LogoutNotice struct {
	ID            int64
	Site          string
	ClientID      string
	URI           string
	Subject       string // the user's sub
	SID           string // the session's sid
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	SentAt        time.Time
	AbandonedAt   time.Time
	// LeasedUntil is when the lease of the worker that claimed the notice last ends (zero
	// when none holds it). ClaimLogouts sets it, and the worker names its lease with it when
	// it reports the outcome (Store.LogoutSent).
	LeasedUntil time.Time
}

// Audit actions of the OpenID Connect provider.
const (
	EventAppSignIn        = "app_sign_in"      // the user was sent back to an application with a code
	EventTokensIssued     = "tokens_issued"    // a code was redeemed
	EventTokensRefreshed  = "tokens_refreshed" // a refresh token was used
	EventTokenRevoked     = "token_revoked"    // an application revoked one of its tokens (RFC 7009)
	EventCodeReplayed     = "code_replayed"    // a used code came again: its tokens were revoked
	EventRefreshReused    = "refresh_reused"   // a rotated refresh token came again: its family was revoked
	EventBackchannelSent  = "backchannel_sent" // an application was told a session ended
	EventBackchannelLost  = "backchannel_lost" // ... and could not be told, so the notice was abandoned
	EventClientCreated    = "client_created"
	EventClientUpdated    = "client_updated"
	EventClientSecret     = "client_secret_rotated"
	EventClientRemoved    = "client_removed"
	EventSigningKeyRotate = "signing_key_rotated"
)
