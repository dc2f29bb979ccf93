package web

import (
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/password"
)

// forgotView is the forgot-password page: the form, or the confirmation after it was sent.
type forgotView struct {
	Sent bool
	// LinkTTL is how long a reset link works, in words ("15 minutes").
	LinkTTL string
}

func (s *Server) forgotView(r *http.Request, site *hmisauth.Site) *view {
	v := s.newView(r, site)
	v.fields = []string{"username"}
	v.Forgot = &forgotView{LinkTTL: duration(site.Policy.ResetLinkTTL)}
	return v
}

// forgotPage asks for the username whose password to reset, already filled in when the
// sign-in page's "Reset your password instead" link carries the one just typed (?username=).
func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	v := s.forgotView(r, site)
	if u := r.URL.Query().Get("username"); utf8.RuneCountInString(u) <= auth.MaxUsernameLength {
		v.Username = u
	}
	s.render(w, r, http.StatusOK, "forgot", v)
}

// forgotSubmit queues the request and answers the same confirmation, word for word and with
// the same status, whoever the username belongs to: a real user, nobody, a locked or disabled
// account, one without an e-mail address. Only a form that cannot be a username (empty, too
// long) comes back with an error. The username typed is not shown again: it would be the one
// difference between the answers.
func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok || !s.parseForm(w, r, site) {
		return
	}
	username := r.PostFormValue("username")
	err := s.svc.RequestReset(r.Context(), auth.ForgotRequest{Site: site.Key, Username: username, ClientAddr: s.clientAddr(r)})
	v := s.forgotView(r, site)
	if err != nil {
		s.formError(w, r, "forgot", v, err, func(v *view) { v.Username = username })
		return
	}
	v.Forgot.Sent = true
	s.render(w, r, http.StatusOK, "forgot", v)
}

// forgotMessage is the API's one answer to every forgot-password request; the page words the
// same thing in forgot.html.
func forgotMessage(site *hmisauth.Site) string {
	locked := "If the account is locked, no link is sent: the helpdesk must unlock it first."
	if site.Policy.Lockout.ResetUnlocks {
		locked = "If the account is locked, choosing a new password with the link also unlocks it."
	}
	return fmt.Sprintf("If %s has an account with that username and an e-mail address on file, we have sent a link "+
		"to reset the password. It can take a few minutes; check your spam or junk folder. The link works for %s. %s "+
		"Not received it? Contact the helpdesk at %s.", site.Name, duration(site.Policy.ResetLinkTTL), locked, site.Helpdesk.Contact())
}

// resetView is the page behind a reset link.
type resetView struct {
	// Token is the link's secret, carried only in the form's hidden field: never in a link,
	// a redirect or the log.
	Token     string
	Username  string
	Question  string // the user's own security question, when the site asks it
	ExpiresAt string // when the link stops working, in the site's timezone

	// Why the form is not shown: the link no longer works (used, expired, superseded or
	// unknown: Dead), the account is locked (Locked), or self-service cannot help this account
	// (Unavailable, with auth's Message saying why).
	Dead        bool
	Locked      bool
	Unavailable bool
	// Unlocks says the account is locked and saving a new password here unlocks it.
	Unlocks bool
	Message string
}

// resetPage opens a reset link: the form for a live one, with whose account it is and the
// rules listed before typing, or plainly why not. Opening it changes nothing, so an e-mail
// scanner that fetches the link does not use it up.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("token")
	link, err := s.svc.OpenResetLink(r.Context(), site.Key, token)
	if err != nil {
		s.resetRefused(w, r, site, err)
		return
	}
	if link.Refused() != nil {
		// The form could only end in "locked": say so before anyone types a password.
		v := s.newView(r, site)
		v.Reset = &resetView{Locked: true}
		s.render(w, r, http.StatusLocked, "reset", v)
		return
	}
	s.render(w, r, http.StatusOK, "reset", s.resetView(r, link, token))
}

func (s *Server) resetView(r *http.Request, link *auth.ResetLink, token string) *view {
	site := link.Site
	v := s.newView(r, site)
	v.Rules = password.Rules(site.Policy.Password)
	v.fields = []string{"new_password", "confirm_password"}
	v.Reset = &resetView{Token: token, Username: link.User.Username, Question: link.SecurityQuestion, Unlocks: link.Unlocks,
		ExpiresAt: clockTime(link.ExpiresAt.In(site.Loc()), s.clock.Now().In(site.Loc()))}
	if link.SecurityQuestion != "" {
		v.fields = append(v.fields, "security_answer")
	}
	return v
}

// resetSubmit sets the new password. On success the user signs in with it (they are not
// signed in here: the sign-in proves they know it); refusals come back next to their fields.
func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok || !s.parseForm(w, r, site) {
		return
	}
	token := r.PostFormValue("token")
	link, err := s.svc.OpenResetLink(r.Context(), site.Key, token)
	if err != nil {
		s.resetRefused(w, r, site, err)
		return
	}
	req := newPasswordRequired
	if link.SecurityQuestion != "" {
		req = append([]required{{"security_answer", "Type the answer to your security question."}}, req...)
	}
	if s.requireFields(w, r, "reset", s.resetView(r, link, token), req) {
		return
	}
	err = s.svc.CompleteReset(r.Context(), auth.ResetRequest{
		Site: site.Key, Token: token,
		New: r.PostFormValue("new_password"), Confirm: r.PostFormValue("confirm_password"),
		SecurityAnswer: r.PostFormValue("security_answer"),
	})
	switch hmisauth.ErrorCode(err) {
	case "":
		redirect(w, r, sitePath(site, "login")+"?notice=password_reset")
	case hmisauth.ETokenInvalid, hmisauth.EAccountLocked, hmisauth.ERecoveryUnavailable:
		s.resetRefused(w, r, site, err)
	default:
		s.formError(w, r, "reset", s.resetView(r, link, token), err, nil)
	}
}

// resetRefused answers a reset link that cannot be used, on the reset page without its form:
// a dead link offers a new one, anything else says whom to call.
func (s *Server) resetRefused(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, err error) {
	if hmisauth.ErrorCode(err) == hmisauth.ERateLimited {
		s.errorPage(w, r, site, err)
		return
	}
	status, e := s.status(r, err)
	if e == nil {
		s.internalError(w, r)
		return
	}
	v := s.newView(r, site)
	v.Reset = &resetView{Message: e.Message}
	switch e.Code {
	case hmisauth.ETokenInvalid:
		v.Reset.Dead = true
	case hmisauth.EAccountLocked:
		v.Reset.Locked = true
	default:
		v.Reset.Unavailable = true
	}
	setErrorHeaders(w, e)
	s.render(w, r, status, "reset", v)
}

// duration says a policy's length of time in words: "15 minutes", "1 hour", "90 minutes".
func duration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64((d+time.Minute/2)/time.Minute), "minute")
	}
	return plural(int64((d+time.Second/2)/time.Second), "second")
}
