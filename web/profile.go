package web

import (
	"net/http"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// profileView holds what the contact form shows: the saved values, or what was typed into a
// refused form.
type profileView struct {
	Email string
	Phone string
	// AskPassword is set when a new e-mail address needs the current password: the password
	// was not typed within session.reauth.
	AskPassword bool
}

func (s *Server) profileView(r *http.Request, p *auth.Principal) *view {
	v := s.newView(r, p.Site)
	v.Principal = p
	v.fields = []string{"email", "phone", "current_password"}
	v.Profile = &profileView{Email: p.User.Email, Phone: p.User.Phone, AskPassword: !p.ReauthFresh(s.clock.Now())}
	return v
}

// profilePage lets the user change their own e-mail address and phone number.
func (s *Server) profilePage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "account/profile")
	if p == nil {
		return
	}
	s.render(w, r, http.StatusOK, "profile", s.profileView(r, p))
}

// profileSubmit saves the contact details. Like PATCH /me, a field the form did not send stays
// as it is; one sent empty is cleared.
func (s *Server) profileSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	site := p.Site
	v := s.profileView(r, p)
	c := auth.ContactChange{CurrentPassword: r.PostFormValue("current_password")}
	if vals, ok := r.PostForm["email"]; ok {
		c.Email = &vals[0]
		v.Profile.Email = vals[0]
	}
	if vals, ok := r.PostForm["phone"]; ok {
		c.Phone = &vals[0]
		v.Profile.Phone = vals[0]
	}
	old := p.User.Email
	if err := s.svc.UpdateContact(r.Context(), p, c); err != nil {
		// The window may have closed while the form was open: ask for the password now.
		s.formError(w, r, "profile", v, err, func(v *view) { v.Profile.AskPassword = v.Profile.AskPassword || v.FieldError("current_password") != "" })
		return
	}
	notice := "contact_saved"
	if old != "" && !strings.EqualFold(old, p.User.Email) {
		notice = "contact_notified" // auth tells the old address whenever it changes
	}
	redirect(w, r, sitePath(site, "account")+"?notice="+notice)
}

// recoveryView is the security-question page.
type recoveryView struct {
	// Used is whether the site asks the question after a reset link at all.
	Used bool
	// Setup is set while setting it up is the user's next required action (first sign-in).
	Setup bool
	// Current is the question saved now, "" if none.
	Current string
	// Question is what the form shows in the question field: typed into a refused form, else
	// the current question.
	Question string
}

func (s *Server) recoveryView(r *http.Request, p *auth.Principal) *view {
	v := s.newView(r, p.Site)
	v.Principal = p
	v.fields = []string{"question", "answer"}
	v.Recovery = &recoveryView{
		Used:     p.Site.RequiresSecurityQuestion(),
		Setup:    p.NextAction() == hmisauth.ActionSetupRecovery,
		Current:  p.User.RecoveryQuestion,
		Question: p.User.RecoveryQuestion,
	}
	v.Reason = changeReason(p)
	return v
}

// recoveryPage sets up or changes the security question; it is also the page of the
// setup_recovery required action.
func (s *Server) recoveryPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "account/recovery")
	if p == nil {
		return
	}
	if p.NextAction() != hmisauth.ActionSetupRecovery && !p.ReauthFresh(s.clock.Now()) {
		// Recovery information is a security setting: the password first.
		redirect(w, r, sitePath(p.Site, "account/security?notice=reauth"))
		return
	}
	s.render(w, r, http.StatusOK, "recovery", s.recoveryView(r, p))
}

// recoveryRequired are the security-question form's fields.
var recoveryRequired = []required{{"question", "Write a question of at least 10 characters, one only you can answer."},
	{"answer", "Type an answer of at least 3 characters."}}

// recoverySubmit saves the question and answer, then goes on to the next required action or
// back to the account.
func (s *Server) recoverySubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	site := p.Site
	v := s.recoveryView(r, p)
	question := r.PostFormValue("question")
	v.Recovery.Question = question
	if s.requireFields(w, r, "recovery", v, recoveryRequired) {
		return
	}
	err := s.svc.SetRecovery(r.Context(), p, auth.Recovery{Question: question, Answer: r.PostFormValue("answer")})
	if err != nil {
		// The answer is a secret like a password: it is never shown again.
		s.formError(w, r, "recovery", v, err, func(v *view) { v.Recovery.Question = question })
		return
	}
	next := s.nextAfterSignIn(r, p)
	if next == sitePath(site, "account") {
		next += "?notice=recovery_saved"
	}
	redirect(w, r, next)
}
