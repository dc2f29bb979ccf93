package sqlstore

import "github.com/hmisauth/hmisauth"

// CheckAccessToken refuses an access token the Store cannot keep: none, or one without its ID
// or expiry.
func CheckAccessToken(at *hmisauth.AccessToken) error {
	switch {
	case at == nil:
		return hmisauth.FieldError("access_token", "No access token given.")
	case at.ID == "":
		return hmisauth.FieldError("access_token", "An access token needs an ID.")
	case at.ExpiresAt.IsZero():
		return hmisauth.FieldError("access_token", "An access token needs an expiry.")
	}
	return nil
}

// CheckRefreshToken refuses a refresh token the Store cannot keep: none, or one without its
// hash or expiry.
func CheckRefreshToken(rt *hmisauth.RefreshToken) error {
	switch {
	case rt == nil:
		return hmisauth.FieldError("refresh_token", "No refresh token given.")
	case len(rt.Hash) == 0:
		return hmisauth.FieldError("refresh_token", "A refresh token needs its hash.")
	case rt.ExpiresAt.IsZero():
		return hmisauth.FieldError("refresh_token", "A refresh token needs an expiry.")
	}
	return nil
}

// CheckReason refuses a session end without its reason: the browser would be told nothing.
func CheckReason(reason string) error {
	if reason == "" {
		return hmisauth.FieldError("reason", "Say why the session ends.")
	}
	return nil
}
