package web

import (
	"net/http"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// verifyView is the second step of signing in.
type verifyView struct {
	Challenge *auth.Challenge
	Code      string // never shown again: a wrong code is retyped
	// PasskeyScript is the address of the script that uses a passkey; "" when they cannot be
	// used at this server's address, so none is offered.
	PasskeyScript string
}

// challenge returns the sign-in waiting for its second step in this browser, or nil when it
// has answered already: there is none (back to the sign-in page, saying why).
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, site *hmisauth.Site) *auth.Challenge {
	c, err := s.svc.LoadChallenge(r.Context(), site.Key, s.cookieValue(r, site, loginCookie))
	if err != nil {
		if hmisauth.ErrorCode(err) != hmisauth.ESessionExpired {
			s.errorPage(w, r, site, err)
			return nil
		}
		s.clearCookie(w, site, loginCookie)
		redirect(w, r, sitePath(site, "login")+"?notice=code_timeout")
		return nil
	}
	return c
}

func (s *Server) verifyView(r *http.Request, c *auth.Challenge) *view {
	v := s.newView(r, c.Site)
	v.Verify = &verifyView{Challenge: c, PasskeyScript: s.passkeyScript()}
	v.fields = []string{"code"}
	return v
}

// verifyPage asks for the code of a sign-in whose password was right.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	c := s.challenge(w, r, site)
	if c == nil {
		return
	}
	s.render(w, r, http.StatusOK, "verify", s.verifyView(r, c))
}

// verifySubmit checks the code and, when right, opens the session.
func (s *Server) verifySubmit(w http.ResponseWriter, r *http.Request) {
	c := s.challengeForm(w, r)
	if c == nil {
		return
	}
	req := s.secondStepRequest(r, c)
	req.Code = r.PostFormValue("code")
	res, err := s.svc.VerifyLogin(r.Context(), req)
	s.secondStepDone(w, r, c, res, err)
}

// challengeForm parses a second-step form and returns its waiting sign-in, or nil when it has
// answered already.
func (s *Server) challengeForm(w http.ResponseWriter, r *http.Request) *auth.Challenge {
	site, ok := s.site(w, r)
	if !ok || !s.parseForm(w, r, site) {
		return nil
	}
	return s.challenge(w, r, site)
}

// secondStepRequest is what every second-step form sends besides its factor's answer.
func (s *Server) secondStepRequest(r *http.Request, c *auth.Challenge) auth.SecondStepRequest {
	return auth.SecondStepRequest{Site: c.Site.Key, Token: c.Token, Remember: r.PostFormValue("remember") == "yes",
		ClientAddr: s.clientAddr(r), UserAgent: r.UserAgent()}
}

// secondStepDone answers a second step, whichever factor it used.
func (s *Server) secondStepDone(w http.ResponseWriter, r *http.Request, c *auth.Challenge, res *auth.LoginResult, err error) {
	site := c.Site
	switch hmisauth.ErrorCode(err) {
	case "":
		s.signedInHere(w, r, site, res)
		return
	case hmisauth.ESessionExpired:
		s.clearCookie(w, site, loginCookie)
		redirect(w, r, sitePath(site, "login")+"?notice=code_timeout")
		return
	case hmisauth.EAccountLocked, hmisauth.ELoginFailed:
		// The sign-in is over: the sign-in page says why, as it would for a password.
		s.clearCookie(w, site, loginCookie)
		s.formError(w, r, "login", s.loginView(r, site, s.pendingRequest(r, site)), err, func(v *view) { v.Username = c.Username })
		return
	}
	s.formError(w, r, "verify", s.verifyView(r, c), err, nil)
}
