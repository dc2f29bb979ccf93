package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// userJSON is a signed-in user as the API shows them.
type userJSON struct {
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Role      string `json:"role"`
	Site      string `json:"site"`
	// MFAEnabled says whether signing in asks for a second step.
	MFAEnabled bool `json:"mfa_enabled"`
}

func newUserJSON(u *hmisauth.User) userJSON {
	return userJSON{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Phone: u.Phone, Role: string(u.Role), Site: u.Site, MFAEnabled: u.MFAEnabled}
}

// requiredActions is never null in JSON: an empty list means the session opens everything.
func requiredActions(p *auth.Principal) []hmisauth.RequiredAction {
	if p.RequiredActions == nil {
		return []hmisauth.RequiredAction{}
	}
	return p.RequiredActions
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// TOTPCode is the authenticator app's code, or a recovery code, for an account with
	// 2-step verification on; without it such an account answers totp_required.
	TOTPCode string `json:"totp_code"`
}

type loginResponse struct {
	Token           string                    `json:"token"`
	ExpiresAt       time.Time                 `json:"expires_at"`
	RequiredActions []hmisauth.RequiredAction `json:"required_actions"`
	User            userJSON                  `json:"user"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	res, err := s.svc.Login(r.Context(), auth.LoginRequest{
		Site: r.PathValue("site"), Username: req.Username, Password: req.Password, Code: req.TOTPCode,
		ClientAddr: s.clientAddr(r), UserAgent: r.UserAgent(),
	})
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	p := res.Principal
	writeJSON(w, http.StatusOK, loginResponse{Token: res.Token, ExpiresAt: p.ExpiresAt.UTC(),
		RequiredActions: requiredActions(p), User: newUserJSON(p.User)})
}

// principal authenticates an API call by its bearer token, or else its session cookie. It
// answers the error itself and returns nil when there is none.
func (s *Server) principal(w http.ResponseWriter, r *http.Request) *auth.Principal {
	key := r.PathValue("site")
	token := bearerToken(r)
	if token == "" {
		if site, err := s.svc.Site(key); err == nil {
			token = s.cookieToken(r, site)
		}
	}
	p, err := s.svc.Authenticate(r.Context(), key, token)
	if err != nil {
		s.writeJSONError(w, r, err)
		return nil
	}
	return p
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	if err := s.svc.Logout(r.Context(), p); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	User              userJSON                  `json:"user"`
	RequiredActions   []hmisauth.RequiredAction `json:"required_actions"`
	Session           sessionJSON               `json:"session"`
	PasswordExpiresAt time.Time                 `json:"password_expires_at,omitzero"`
}

type sessionJSON struct {
	ExpiresAt     time.Time `json:"expires_at"`
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	// ReauthUntil is when the security settings close (POST /me/reauth opens them again).
	ReauthUntil time.Time `json:"reauth_until,omitzero"`
}

// apiMe answers even while required actions are pending: it is how a client learns them.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	writeJSON(w, http.StatusOK, newMeResponse(p))
}

func newMeResponse(p *auth.Principal) meResponse {
	res := meResponse{
		User: newUserJSON(p.User), RequiredActions: requiredActions(p),
		Session: sessionJSON{ExpiresAt: p.ExpiresAt.UTC(), IdleExpiresAt: p.IdleExpiresAt.UTC(), ReauthUntil: p.ReauthUntil().UTC()},
	}
	if !p.PasswordExpiresAt.IsZero() {
		res.PasswordExpiresAt = p.PasswordExpiresAt.UTC()
	}
	return res
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	ConfirmPassword string `json:"confirm_password"`
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	var req passwordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	err := s.svc.ChangePassword(r.Context(), p, auth.PasswordChangeRequest{
		Current: req.CurrentPassword, New: req.NewPassword, Confirm: req.ConfirmPassword})
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type termsRequest struct {
	Version *int `json:"version"`
}

func (s *Server) apiAcceptTerms(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	var req termsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	if req.Version == nil {
		s.writeJSONError(w, r, hmisauth.FieldError("version", "Send the version of the terms you accept."))
		return
	}
	if err := s.svc.AcceptTerms(r.Context(), p, *req.Version); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiNotFound answers an API address we do not serve in JSON, like every other API answer.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeJSONError(w, r, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no API call %s %s.", r.Method, r.URL.Path))
}

// decodeJSON reads one JSON object of at most maxBody bytes into v, refusing other content
// types (415), unknown fields (naming them) and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, err: hmisauth.Errorf(hmisauth.EINVALID,
			"Send the request body as JSON, with the header Content-Type: application/json.")}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return hmisauth.Errorf(hmisauth.EINVALID, "Send exactly one JSON object.")
	}
	return nil
}

// unknownFieldPrefix starts encoding/json's error for a field not in the struct; the package
// has no error type for it, so its documented message is all there is to go on.
const unknownFieldPrefix = "json: unknown field "

// jsonError turns a decoding failure into an application error a client developer can act on.
func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &httpError{status: http.StatusRequestEntityTooLarge, err: hmisauth.Errorf(hmisauth.EINVALID,
			"The request body is larger than %d bytes.", maxBody)}
	case errors.As(err, &typ) && typ.Field != "":
		return hmisauth.FieldError(typ.Field, fmt.Sprintf("%s must be a JSON %s.", typ.Field, jsonKind(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), unknownFieldPrefix):
		field := strings.Trim(strings.TrimPrefix(err.Error(), unknownFieldPrefix), `"`)
		return hmisauth.FieldError(field, fmt.Sprintf("Unknown field %q.", field))
	case errors.Is(err, io.EOF):
		return hmisauth.Errorf(hmisauth.EINVALID, "The request body is empty; send a JSON object.")
	}
	return hmisauth.Errorf(hmisauth.EINVALID, "The request body is not valid JSON.")
}

func jsonKind(goKind string) string {
	switch {
	case goKind == "string":
		return "string"
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "bool":
		return "boolean"
	}
	return "value of another type"
}
