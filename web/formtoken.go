package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Forms that must not act twice. Reloading the page a form answered with sends the form again,
// and so does a double click; for a form that creates something (an account, an agency, an
// application) or shows a secret once (a temporary password, recovery codes, an application's
// secret) that would create a second one or replace the secret just passed on. Each such form
// carries a one-time token (view.FormToken, the "form-token" template), made for the signed-in
// session and the form's purpose. The form acts only on the token's first sending; a repeat
// shows what the first did, never the secret again, and changes nothing. A form whose token is
// missing, expired or another page's does nothing either, and asks to be sent again.
//
// Forms that change something the same way however often they are sent (unlock, save
// changes, disable) go by post/redirect/get instead: their answer is a redirect, so a reload
// fetches the page again and sends nothing.

// The purposes of the one-time forms. A purpose names what the form acts on when its address
// does, so a token from one user's or application's page does nothing on another's.
const (
	formCreateUser    = "create-user"
	formImport        = "import-users"
	formAddAgency     = "add-agency"
	formAddClient     = "add-client"
	formTOTPStart     = "totp-start"
	formTOTPConfirm   = "totp-confirm"
	formRecoveryCodes = "recovery-codes"
)

func formTemporaryPassword(username string) string {
	return "temporary-password:" + strings.ToLower(username)
}

func formRotateSecret(clientID string) string { return "rotate-secret:" + clientID }

// formResult is what the first sending of a form did, kept for a repeat to show. It never
// holds a secret.
type formResult struct {
	Username string        `json:"username,omitempty"` // the account created, or given a password
	Name     string        `json:"name,omitempty"`     // its person's name
	ID       string        `json:"id,omitempty"`       // the agency or application added or changed
	Created  []formAccount `json:"created,omitempty"`  // an import's accounts
	Public   bool          `json:"public,omitempty"`   // the application added has no secret
}

type formAccount struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

// formToken makes a one-time token for a form of purpose on p's page.
func (s *Server) formToken(r *http.Request, p *auth.Principal, purpose string) (string, error) {
	return s.svc.IssueFormToken(r.Context(), p, purpose)
}

// userPageFormToken is the token of a user page's forms that issue a temporary password
// (admin_user.html): the handler that renders the page sets view.FormToken to it.
func (s *Server) userPageFormToken(r *http.Request, a *auth.Admin, username string) (string, error) {
	return s.formToken(r, a.Principal(), formTemporaryPassword(username))
}

// formSending is one sending of a one-time form, as useForm found its token.
type formSending struct {
	use *auth.FormUse // nil when the token was missing, expired or another page's
	// Result is what the first sending did, when this is a repeat and the first has finished.
	Result  formResult
	settled bool // done or undo was called
}

// Acts reports whether this sending is the form's first: it does the form's work, then done
// or undo.
func (f *formSending) Acts() bool { return f.use != nil && f.use.First }

// Repeat reports whether the form was sent with this token before: the answer shows what
// that sending did (Result; empty while it is still at work) and does nothing.
func (f *formSending) Repeat() bool { return f.use != nil && !f.use.First }

// Stale reports whether the token was missing, expired or another page's: nothing is done,
// and the form is shown again with a new token to send it with.
func (f *formSending) Stale() bool { return f.use == nil }

// Finished reports whether the repeated form's first sending has finished (its Result known).
func (f *formSending) Finished() bool { return f.Repeat() && f.use.Result != "" }

// useForm reads the token of the form r sent for purpose.
func (s *Server) useForm(r *http.Request, p *auth.Principal, purpose string) (*formSending, error) {
	use, err := s.svc.UseFormToken(r.Context(), p, purpose, r.PostFormValue("form_token"))
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return &formSending{}, nil
	} else if err != nil {
		return nil, err
	}
	f := &formSending{use: use}
	if use.Result != "" {
		if err := json.Unmarshal([]byte(use.Result), &f.Result); err != nil {
			s.log.ErrorContext(r.Context(), "form token result unreadable", "purpose", purpose, "err", err)
		}
	}
	return f, nil
}

// done records what the form's first sending did. A failure only costs a repeat its answer
// (it says the form was sent, not what it did), so it is logged, not shown.
func (s *Server) done(r *http.Request, f *formSending, res formResult) {
	f.settled = true
	b, err := json.Marshal(res) // never "": a repeat tells a finished first sending by its result
	if err == nil {
		err = f.use.Done(r.Context(), string(b))
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "form token result not recorded", "err", err)
	}
}

// undo gives the token back after the form was refused: the corrected form, or the same one
// sent again, acts. A failure leaves the token used, so sending it again only says so.
func (s *Server) undo(r *http.Request, f *formSending) {
	f.settled = true
	if err := f.use.Undo(r.Context()); err != nil {
		s.log.ErrorContext(r.Context(), "form token not given back", "err", err)
	}
}

// release gives the token back unless done recorded the form's work. A handler whose form
// acts defers it, so every answer that did nothing (a refused file, say) leaves the form to be
// sent again.
func (s *Server) release(r *http.Request, f *formSending) {
	if f != nil && f.Acts() && !f.settled {
		s.undo(r, f)
	}
}

// staleForm is the answer to a form whose token was missing, expired or another page's: what
// was not done, and what to do.
func staleForm(message string) error {
	return &hmisauth.Error{Code: hmisauth.ECONFLICT, Message: message}
}
