package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hmisauth/hmisauth"
)

// What the ID token, userinfo, introspection and JWT access tokens say about the user: the
// claims of the scopes asked for.

// SetUserinfoFromScopes is replaced by SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills an ID token's claims: those of the scopes, and the sid of the
// session it came from.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var userID int64
	var sess *hmisauth.Session
	switch r := req.(type) {
	case *authRequest:
		userID, sess = r.r.UserID, r.session
	case *refreshRequest:
		userID, sess = r.t.UserID, r.session
	default:
		return errors.New("an ID token for an unknown kind of request")
	}
	if err := s.fillClaims(ctx, ui, userID, scopes); err != nil {
		return err
	}
	if sess != nil && sess.SID != "" {
		ui.AppendClaims("sid", sess.SID)
	}
	return nil
}

// liveToken finds an access token of this site that is still good at now.
func (s *storage) liveToken(ctx context.Context, id, subject string) (*hmisauth.AccessToken, *hmisauth.User, error) {
	at, err := s.store().AccessToken(ctx, id)
	if err != nil || at.Site != s.siteKey() || !s.now().Before(at.ExpiresAt) {
		return nil, nil, oidc.ErrAccessDenied().WithDescription("the access token is not active")
	}
	u, err := s.store().UserByID(ctx, at.UserID)
	if err != nil || u.Subject != subject {
		return nil, nil, oidc.ErrAccessDenied().WithDescription("the access token is not active")
	}
	return at, u, nil
}

// SetUserinfoFromToken answers the userinfo endpoint: the claims of the token's scopes.
func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	at, u, err := s.liveToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if !slices.Contains(at.Scopes, oidc.ScopeOpenID) {
		return oidc.ErrAccessDenied().WithDescription("the access token was not issued with the openid scope")
	}
	return s.userClaims(ctx, ui, u, at.Scopes)
}

// SetIntrospectionFromToken answers introspection (RFC 7662) for any client of the site: a
// resource server checking a token it was handed. Nothing is set unless the token is active.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	at, u, err := s.liveToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	ui := new(oidc.UserInfo)
	if err := s.userClaims(ctx, ui, u, at.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(ui)
	for k, v := range ui.Claims {
		if resp.Claims == nil {
			resp.Claims = map[string]any{}
		}
		resp.Claims[k] = v
	}
	resp.Active = true
	resp.Scope = at.Scopes
	resp.ClientID = at.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(at.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(at.CreatedAt)
	resp.Subject = u.Subject
	resp.Audience = []string{at.ClientID}
	resp.Issuer = s.sp.issuer
	resp.JWTID = at.ID
	resp.Username = u.Username
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds to a JWT access token the sid of its session and, with the
// hmis scope, the HMIS claims.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, scopes []string) (map[string]any, error) {
	var userID int64
	var sess *hmisauth.Session
	switch r := req.(type) {
	case *authRequest:
		userID, sess = r.r.UserID, r.session
	case *refreshRequest:
		userID, sess = r.t.UserID, r.session
	default:
		return nil, nil
	}
	claims := map[string]any{}
	if sess != nil && sess.SID != "" {
		claims["sid"] = sess.SID
	}
	if slices.Contains(scopes, ScopeHMIS) {
		ui := new(oidc.UserInfo)
		if err := s.fillClaims(ctx, ui, userID, []string{ScopeHMIS}); err != nil {
			return nil, err
		}
		for k, v := range ui.Claims {
			claims[k] = v
		}
	}
	return claims, nil
}

// fillClaims fills ui for a user by ID.
func (s *storage) fillClaims(ctx context.Context, ui *oidc.UserInfo, userID int64, scopes []string) error {
	u, err := s.store().UserByID(ctx, userID)
	if err != nil {
		return err
	}
	return s.userClaims(ctx, ui, u, scopes)
}

// userClaims fills ui with the claims of scopes: sub always; profile: the username and names;
// email and phone (never claimed verified: nobody proved the mailbox or the phone); hmis: the
// site, role and agency.
func (s *storage) userClaims(ctx context.Context, ui *oidc.UserInfo, u *hmisauth.User, scopes []string) error {
	ui.Subject = u.Subject
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			ui.PreferredUsername = u.Username
			ui.Name = u.FullName()
			ui.GivenName = u.FirstName
			ui.FamilyName = u.LastName
		case oidc.ScopeEmail:
			if u.Email != "" {
				ui.Email = u.Email
				ui.AppendClaims("email_verified", false)
			}
		case oidc.ScopePhone:
			if u.Phone != "" {
				ui.PhoneNumber = u.Phone
				ui.AppendClaims("phone_number_verified", false)
			}
		case ScopeHMIS:
			ui.AppendClaims("hmis_site", s.siteKey())
			ui.AppendClaims("hmis_role", string(u.Role))
			if u.AgencyID != 0 {
				a, err := s.store().Agency(ctx, s.siteKey(), u.AgencyID)
				if err != nil {
					return err
				}
				ui.AppendClaims("hmis_agency", map[string]any{"id": a.ID, "name": a.Name})
			}
		}
	}
	return nil
}
