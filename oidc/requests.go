package oidc

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/hmisauth/hmisauth"
)

// authRequest is op.AuthRequest over a stored authorization request; subject is the user's
// sub once the user has signed in.
type authRequest struct {
	r        *hmisauth.AuthRequest
	subject  string
	username string // for the audit log
	// session is the hmisauth session the user signed in with, once known (at the token
	// endpoint): tokens die with it.
	session *hmisauth.Session
}

func (a *authRequest) GetID() string         { return a.r.ID }
func (a *authRequest) GetACR() string        { return acrOf(a.r.AMR) }
func (a *authRequest) GetAMR() []string      { return a.r.AMR }
func (a *authRequest) GetAudience() []string { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.r.AuthTime
}
func (a *authRequest) GetClientID() string { return a.r.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseModeQuery }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.r.Done() }

// refreshRequest is op.RefreshTokenRequest over a stored refresh token.
type refreshRequest struct {
	t        *hmisauth.RefreshToken
	subject  string
	username string // for the audit log
	session  *hmisauth.Session
	// scopes are those asked for in this refresh (a subset of the token's), for the new
	// access token; the new refresh token keeps the token's own.
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.t.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// acrOf is the authentication context class of a sign-in.
func acrOf(amr []string) string {
	if slices.Contains(amr, "mfa") {
		return ACRMFA
	}
	return ACRPassword
}
