package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Passkeys are driven by static/passkey.js, since browsers offer them to JavaScript alone: it
// fetches the options below as JSON, asks the browser for the passkey, and posts the answer
// in an ordinary form, which the handlers here answer with pages like every other form.

// passkeyOptions is the JSON the script hands the browser: Options for
// navigator.credentials.create() or get(), and for a new passkey the State to post back.
type passkeyOptions struct {
	Options json.RawMessage `json:"options"`
	State   string          `json:"state,omitempty"`
}

// passkeyScript is the address of static/passkey.js, versioned by its content, or "" when
// passkeys cannot be used at this server's address (the pages then offer none).
func (s *Server) passkeyScript() string {
	if !s.svc.PasskeysAvailable() {
		return ""
	}
	return "/static/passkey.js?v=" + staticVersion("static/passkey.js")
}

// signedInJSON returns the principal of a request from the script, or nil when it has
// answered already with a JSON error (the script then reloads the page, which says why).
func (s *Server) signedInJSON(w http.ResponseWriter, r *http.Request) *auth.Principal {
	site, err := s.svc.Site(r.PathValue("site"))
	if err != nil {
		s.writeJSONError(w, r, err)
		return nil
	}
	token := s.cookieToken(r, site)
	if token == "" {
		s.writeJSONError(w, r, &hmisauth.Error{Code: hmisauth.EUnauthorized, Message: "You are signed out. Sign in again."})
		return nil
	}
	p, err := s.svc.Authenticate(r.Context(), site.Key, token)
	if err != nil {
		s.writeJSONError(w, r, err)
		return nil
	}
	return p
}

// passkeyRegisterOptions begins adding a passkey on the security settings page.
func (s *Server) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request) {
	p := s.signedInJSON(w, r)
	if p == nil {
		return
	}
	options, state, err := s.svc.BeginPasskeyRegistration(r.Context(), p)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, passkeyOptions{Options: options, State: state})
}

// passkeyRegister adds the passkey the browser made. The first second factor shows the new
// recovery codes, once; otherwise it is back to the security settings.
func (s *Server) passkeyRegister(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	codes, err := s.svc.FinishPasskeyRegistration(r.Context(), p, r.PostFormValue("state"),
		r.PostFormValue("name"), []byte(r.PostFormValue("credential")))
	if err != nil {
		s.passkeyFormError(w, r, p, err)
		return
	}
	if codes != nil {
		s.showCodes(w, r, p, codes)
		return
	}
	redirect(w, r, sitePath(p.Site, "account/security?notice=passkey_added"))
}

// passkeyFormError shows a refused passkey on the security page, a bad name next to its field.
func (s *Server) passkeyFormError(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) {
	v, verr := s.securityView(r, p)
	if verr != nil {
		s.errorPage(w, r, p.Site, verr)
		return
	}
	if e := hmisauth.AsError(err); e != nil && e.Field == "name" {
		onPage := *e
		onPage.Field = "passkey-name" // the field's id on the security page
		err = &onPage
	}
	v.fields = append(v.fields, "passkey-name")
	s.formError(w, r, "security", v, err, nil)
}

// passkeyDelete removes one of the user's passkeys.
func (s *Server) passkeyDelete(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, p.Site, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no such passkey."))
		return
	}
	if err := s.svc.DeletePasskey(r.Context(), p, id); err != nil {
		s.securityFormError(w, r, p, err)
		return
	}
	redirect(w, r, sitePath(p.Site, "account/security?notice=passkey_removed"))
}

// passkeyLoginOptions begins the second step of the sign-in waiting in this browser (its
// _login cookie) with a passkey.
func (s *Server) passkeyLoginOptions(w http.ResponseWriter, r *http.Request) {
	site, err := s.svc.Site(r.PathValue("site"))
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	options, err := s.svc.BeginPasskeyLogin(r.Context(), site.Key, s.cookieValue(r, site, loginCookie))
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, passkeyOptions{Options: options})
}

// passkeyLoginSubmit checks the passkey's answer and, when it verifies, opens the session.
func (s *Server) passkeyLoginSubmit(w http.ResponseWriter, r *http.Request) {
	c := s.challengeForm(w, r)
	if c == nil {
		return
	}
	res, err := s.svc.VerifyPasskeyLogin(r.Context(), s.secondStepRequest(r, c), []byte(r.PostFormValue("credential")))
	s.secondStepDone(w, r, c, res, err)
}
