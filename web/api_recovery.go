package web

import (
	"net/http"
	"time"

	"github.com/hmisauth/hmisauth/auth"
)

type forgotRequest struct {
	Username string `json:"username"`
}

type messageResponse struct {
	Message string `json:"message"`
}

// apiForgot accepts a forgot-password request: 202 with the same body whoever the username
// belongs to (CONTRACT.md), so the answer tells an outsider nothing about which accounts
// exist. The e-mail is queued, never sent while the client waits.
func (s *Server) apiForgot(w http.ResponseWriter, r *http.Request) {
	var req forgotRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	site, err := s.svc.Site(r.PathValue("site"))
	if err == nil {
		err = s.svc.RequestReset(r.Context(), auth.ForgotRequest{Site: site.Key, Username: req.Username, ClientAddr: s.clientAddr(r)})
	}
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, messageResponse{Message: forgotMessage(site)})
}

type resetLinkResponse struct {
	ExpiresAt        time.Time `json:"expires_at"`
	SecurityQuestion string    `json:"security_question,omitempty"`
}

// apiResetLink checks a reset link before the new password is typed: when it stops working,
// and the security question to answer on sites that ask one.
func (s *Server) apiResetLink(w http.ResponseWriter, r *http.Request) {
	link, err := s.svc.OpenResetLink(r.Context(), r.PathValue("site"), r.URL.Query().Get("token"))
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resetLinkResponse{ExpiresAt: link.ExpiresAt.UTC(), SecurityQuestion: link.SecurityQuestion})
}

type resetRequest struct {
	Token           string `json:"token"`
	NewPassword     string `json:"new_password"`
	ConfirmPassword string `json:"confirm_password"`
	SecurityAnswer  string `json:"security_answer"`
}

// apiReset sets a new password through a reset link: 204, after which the user signs in.
func (s *Server) apiReset(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	err := s.svc.CompleteReset(r.Context(), auth.ResetRequest{Site: r.PathValue("site"), Token: req.Token,
		New: req.NewPassword, Confirm: req.ConfirmPassword, SecurityAnswer: req.SecurityAnswer})
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// contactRequest is PATCH /me: a field left out (or null) stays as it is; "" clears it.
// Changing the e-mail address needs current_password, unless the password was typed within
// session.reauth (403 reauth_required otherwise).
type contactRequest struct {
	Email           *string `json:"email"`
	Phone           *string `json:"phone"`
	CurrentPassword string  `json:"current_password"`
}

// apiUpdateContact changes the signed-in user's e-mail and phone and answers the updated
// account as GET /me does.
func (s *Server) apiUpdateContact(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	var req contactRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	if err := s.svc.UpdateContact(r.Context(), p, auth.ContactChange{Email: req.Email, Phone: req.Phone, CurrentPassword: req.CurrentPassword}); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newMeResponse(p))
}

type recoveryRequest struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// apiSetRecovery sets or changes the security question; it is also the setup_recovery
// required action.
func (s *Server) apiSetRecovery(w http.ResponseWriter, r *http.Request) {
	p := s.principal(w, r)
	if p == nil {
		return
	}
	var req recoveryRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	if err := s.svc.SetRecovery(r.Context(), p, auth.Recovery{Question: req.Question, Answer: req.Answer}); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
