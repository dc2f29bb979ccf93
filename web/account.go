package web

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/password"
)

// termsPage shows the Terms of Agreement with an "I accept" button while accepting them is
// the user's next step, and for reading only once they have.
func (s *Server) termsPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "terms")
	if p == nil {
		return
	}
	s.render(w, r, http.StatusOK, "terms", s.termsView(r, p))
}

func (s *Server) termsView(r *http.Request, p *auth.Principal) *view {
	v := s.newView(r, p.Site)
	v.Principal = p
	v.Version = p.Site.Policy.Terms.Version
	v.Accepted = p.NextAction() != hmisauth.ActionAcceptTerms
	v.Reason = changeReason(p)
	return v
}

// changeReason is why the user must still change their password (temporary or expired), or
// "" when they need not. Pages use it to warn that signing out wastes a temporary password,
// which works only once.
func changeReason(p *auth.Principal) string {
	for _, a := range p.RequiredActions {
		if a.Name == hmisauth.ActionChangePassword {
			return a.Reason
		}
	}
	return ""
}

// termsSubmit records the acceptance of the version the user read.
func (s *Server) termsSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	version, err := strconv.Atoi(r.PostFormValue("version"))
	if err == nil {
		err = s.svc.AcceptTerms(r.Context(), p, version)
	} else {
		err = hmisauth.FieldError("version", "The form was incomplete. Read the terms below and press \"I accept\" again.")
	}
	if err != nil {
		s.formError(w, r, "terms", s.termsView(r, p), err, nil)
		return
	}
	redirect(w, r, s.nextAfterSignIn(r, p))
}

// passwordPage is both the forced change (a temporary or expired password) and the voluntary
// one, which also asks for the current password. The rules are listed before anyone types.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "password")
	if p == nil {
		return
	}
	s.render(w, r, http.StatusOK, "password", s.passwordView(r, p))
}

func (s *Server) passwordView(r *http.Request, p *auth.Principal) *view {
	v := s.newView(r, p.Site)
	v.Principal = p
	v.Rules = password.Rules(p.Site.Policy.Password)
	if p.NextAction() == hmisauth.ActionChangePassword {
		v.Forced, v.Reason = true, changeReason(p)
		v.fields = []string{"new_password", "confirm_password"}
	} else {
		v.fields = []string{"current_password", "new_password", "confirm_password"}
	}
	return v
}

// newPasswordRequired are the fields of a new password typed twice (base.html's
// "new-password-fields").
var newPasswordRequired = []required{{"new_password", "Enter a new password."}, {"confirm_password", "Type the new password again."}}

// passwordRequired are the password form's fields that must not be empty: the current password
// too, unless the change is forced or the password was typed just now (session.reauth).
func (s *Server) passwordRequired(v *view, p *auth.Principal) []required {
	if v.Forced || p.ReauthFresh(s.clock.Now()) {
		return newPasswordRequired
	}
	return append([]required{{"current_password", "Enter your current password."}}, newPasswordRequired...)
}

// passwordSubmit changes the password; a refused one comes back with each broken rule listed.
func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	site := p.Site
	v := s.passwordView(r, p) // before the change: the page as the user saw it
	if s.requireFields(w, r, "password", v, s.passwordRequired(v, p)) {
		return
	}
	err := s.svc.ChangePassword(r.Context(), p, auth.PasswordChangeRequest{
		Current: r.PostFormValue("current_password"),
		New:     r.PostFormValue("new_password"),
		Confirm: r.PostFormValue("confirm_password"),
	})
	if err != nil {
		s.formError(w, r, "password", v, err, nil)
		return
	}
	next := s.nextAfterSignIn(r, p)
	if next == sitePath(site, "account") {
		next += "?notice=password_changed"
	}
	redirect(w, r, next)
}

// accountPage is the signed-in home: who you are, and when your password and session end.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "account")
	if p == nil {
		return
	}
	v := s.newView(r, p.Site)
	v.Principal = p
	v.Account = newAccountView(p, s.clock.Now())
	apps, err := s.svc.Applications(r.Context(), p)
	if err != nil {
		s.errorPage(w, r, p.Site, err)
		return
	}
	for _, c := range apps {
		// The site's app_url comes first, as the button; an application at the same address
		// is not listed again under it.
		if c.HomeURL != p.Site.AppURL {
			v.Account.Apps = append(v.Account.Apps, appView{Name: c.Name, Home: c.HomeURL})
		}
	}
	s.render(w, r, http.StatusOK, "account", v)
}

// accountView is the account page's times, worked out in the site's timezone.
type accountView struct {
	// SessionEnds is when the session ends at the latest ("3:04 PM CST"), IdleMinutes how long
	// without activity ends it sooner; IdleMatters is false when the absolute end comes first.
	SessionEnds string
	IdleMinutes int
	IdleMatters bool

	// PasswordExpires is the expiry date ("Monday, March 2, 2026"), empty when it never
	// expires; PasswordDaysLeft counts whole days from now, and PasswordWarn is set when that
	// is within the site's warning period (warn_days).
	PasswordExpires  string
	PasswordDaysLeft int
	PasswordWarn     bool

	// Apps are the site's applications, to go on to after signing in here.
	Apps []appView
}

func newAccountView(p *auth.Principal, now time.Time) *accountView {
	loc := p.Site.Loc()
	now = now.In(loc)
	a := &accountView{
		SessionEnds: clockTime(p.ExpiresAt.In(loc), now),
		IdleMinutes: int(math.Round(p.Site.Policy.Session.Idle.Minutes())),
		IdleMatters: p.IdleExpiresAt.Before(p.ExpiresAt),
	}
	if exp := p.PasswordExpiresAt; !exp.IsZero() {
		exp = exp.In(loc)
		a.PasswordExpires = exp.Format("Monday, January 2, 2006")
		a.PasswordDaysLeft = int(math.Ceil(exp.Sub(now).Hours() / 24))
		_, a.PasswordWarn = p.PasswordExpiresSoon(now)
	}
	return a
}

// clockTime writes t as a time of day, adding the day when it is not today.
func clockTime(t, now time.Time) string {
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("3:04 PM MST")
	}
	return t.Format("3:04 PM MST on Monday, January 2")
}
