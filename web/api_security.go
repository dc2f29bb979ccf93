package web

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/hmisauth/hmisauth"
)

type reauthRequest struct {
	Password string `json:"password"`
}

// apiReauth opens the security settings for session.reauth. The token stays the same: an API
// client has no cookie to receive a new one in.
func (s *Server) apiReauth(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	var req reauthRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	if _, err := s.svc.Reauthenticate(r.Context(), p, req.Password, false); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type totpStartResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRCodePNG  string `json:"qr_code_png"` // base64
}

func (s *Server) apiStartTOTP(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	e, err := s.svc.StartTOTP(r.Context(), p)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, totpStartResponse{Secret: e.Secret, OTPAuthURL: e.URL,
		QRCodePNG: base64.StdEncoding.EncodeToString(e.QRCode)})
}

type codeRequest struct {
	Code string `json:"code"`
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	var req codeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	codes, err := s.svc.ConfirmTOTP(r.Context(), p, req.Code)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}

func (s *Server) apiDisableTOTP(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	if err := s.svc.DisableTOTP(r.Context(), p); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiNewRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	codes, err := s.svc.NewRecoveryCodes(r.Context(), p)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}

type sessionListJSON struct {
	ID            int64     `json:"id"`
	Current       bool      `json:"current"`
	CreatedAt     time.Time `json:"created_at"`
	LastSeenAt    time.Time `json:"last_seen_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	ClientAddr    string    `json:"client_addr"`
	UserAgent     string    `json:"user_agent"`
	Browser       string    `json:"browser"`
	Applications  []string  `json:"applications"`
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	list, err := s.svc.Sessions(r.Context(), p)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	out := []sessionListJSON{}
	for _, x := range list {
		out = append(out, sessionListJSON{ID: x.ID, Current: x.Current, CreatedAt: x.CreatedAt.UTC(),
			LastSeenAt: x.LastSeenAt.UTC(), ExpiresAt: x.ExpiresAt.UTC(), IdleExpiresAt: x.IdleExpiresAt.UTC(),
			ClientAddr: x.ClientAddr, UserAgent: x.UserAgent, Browser: x.Browser, Applications: append([]string{}, x.Apps...)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) apiEndSession(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.writeJSONError(w, r, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no session %q.", r.PathValue("id")))
		return
	}
	if err := s.svc.EndSession(r.Context(), p, id); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
