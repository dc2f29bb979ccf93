package web

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The buttons and forms of a user's page: unlock, disable and enable, expire the password, end
// the sessions, reset 2-step verification, issue a temporary password, record a user agreement.

// consoleStep serves an action button of the user page: it does the step, then goes back to
// the user's page saying what happened.
func (s *Server) consoleStep(done string, step func(*auth.Admin, *http.Request, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.consoleAdminForm(w, r)
		if a == nil {
			return
		}
		username := r.PathValue("username")
		if err := step(a, r, username); err != nil {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		redirect(w, r, userPath(a.Site(), username)+"?done="+done)
	}
}

func (s *Server) consoleUnlock() http.HandlerFunc {
	return s.consoleStep("unlocked", func(a *auth.Admin, r *http.Request, username string) error {
		_, err := a.Unlock(r.Context(), username)
		return err
	})
}

// consoleEnable enables a disabled account from its page.
func (s *Server) consoleEnable() http.HandlerFunc {
	return s.consoleStep("enabled", func(a *auth.Admin, r *http.Request, username string) error {
		_, err := a.SetDisabled(r.Context(), username, false)
		return err
	})
}

// departureReasonLabels words the departure reasons for the disable page and the user page.
var departureReasonLabels = map[string]string{
	hmisauth.DepartureLeftAgency: "Left the agency",
	hmisauth.DepartureViolation:  "Violated the policies (security, privacy or the user agreement)",
	hmisauth.DepartureOther:      "Another reason",
	hmisauth.DepartureInactive:   "Not used for too long (disabled automatically)",
}

// departureForm is the disable page's form, as sent (or empty, with today's date).
type departureForm struct {
	Reasons    []option
	ReportedOn string
	Today      hmisauth.Date // the latest day allowed
}

func newDepartureForm(site *hmisauth.Site, now time.Time, reason, reportedOn string) *departureForm {
	f := &departureForm{ReportedOn: reportedOn, Today: site.Today(now)}
	if f.ReportedOn == "" {
		f.ReportedOn = string(f.Today)
	}
	for _, r := range hmisauth.DepartureReasons {
		f.Reasons = append(f.Reasons, option{Value: r, Label: departureReasonLabels[r], Selected: r == reason})
	}
	return f
}

// departureDetail says on the user's page when, why and by whom the account was disabled, and
// when its agency reported it.
func departureDetail(site *hmisauth.Site, u *hmisauth.User, d *hmisauth.Departure) string {
	when := siteTimeOr(site, u.DisabledAt, "Unknown")
	if d == nil {
		return when
	}
	reason := departureReasonLabels[d.Reason]
	if reason == "" {
		reason = d.Reason
	}
	s := when
	switch d.DisabledBy {
	case "":
	case auth.JobActor:
		s += " automatically"
	default:
		s += " by " + d.DisabledBy
	}
	s += ". Reason: " + reason + "."
	if !d.ReportedOn.IsZero() {
		s += " Reported by the agency on " + siteDate(d.ReportedOn) + "."
	}
	return s
}

// consoleDisable disables an account from the confirmation page, with why and when the
// agency reported it; a missing or wrong answer shows the page again with what to fix.
func (s *Server) consoleDisable(w http.ResponseWriter, r *http.Request) {
	a, v := s.openUserPage(w, r, true)
	if v == nil {
		return
	}
	reason, reported := r.PostFormValue("reason"), strings.TrimSpace(r.PostFormValue("reported_on"))
	v.Departure = newDepartureForm(a.Site(), s.clock.Now(), reason, reported)
	d, err := hmisauth.ParseDate("reported_on", "The day the agency told the helpdesk", reported)
	if err == nil {
		_, err = a.Disable(r.Context(), v.Detail.D.User.Username, auth.Departure{Reason: reason, ReportedOn: d})
	}
	if err != nil {
		v.fields = append(v.fields, "reason", "reported_on")
		s.consoleFormError(w, r, "admin_disable", v, err)
		return
	}
	redirect(w, r, userPath(a.Site(), v.Detail.D.User.Username)+"?done=disabled")
}

func (s *Server) consoleExpirePassword() http.HandlerFunc {
	return s.consoleStep("expired", func(a *auth.Admin, r *http.Request, username string) error {
		_, err := a.ExpirePassword(r.Context(), username)
		return err
	})
}

func (s *Server) consoleEndSessions() http.HandlerFunc {
	return s.consoleStep("sessions_ended", func(a *auth.Admin, r *http.Request, username string) error {
		return a.EndSessions(r.Context(), username)
	})
}

func (s *Server) consoleResetMFA() http.HandlerFunc {
	return s.consoleStep("mfa_reset", func(a *auth.Admin, r *http.Request, username string) error {
		_, err := a.ResetMFA(r.Context(), username)
		return err
	})
}

// consoleDisableConfirm asks before disabling: the person loses access at once.
func (s *Server) consoleDisableConfirm(w http.ResponseWriter, r *http.Request) {
	_, v := s.openUserPage(w, r, false)
	if v == nil {
		return
	}
	v.Departure = newDepartureForm(v.Site, s.clock.Now(), "", "")
	s.consoleRender(w, r, http.StatusOK, "admin_disable", v)
}

// tempView is the page that shows a temporary password, once; or, for a form sent again, says
// what its first sending did; or asks to issue one when the form had expired.
type tempView struct {
	Username, Name, Password, Message, UserPath string
	Hours                                       int
	Created                                     bool // a new account's (else a new password for one)
	// Repeat: the form was sent before, and the first sending created the account or issued
	// the password; this page shows neither again. Pending: that sending is still at work.
	Repeat, Pending bool
	// Confirm: the form had expired, so nothing was done; the page asks again.
	Confirm   bool
	UsersPath string
}

// Groups is the password in its groups of four, to show with room between them.
func (t *tempView) Groups() []string { return strings.Split(t.Password, "-") }

// Capitals reports whether the password has capital letters, which reading it out must say.
func (t *tempView) Capitals() bool { return strings.IndexFunc(t.Password, unicode.IsUpper) >= 0 }

func (s *Server) tempView(r *http.Request, a *auth.Admin, c *auth.Created, created bool) *tempView {
	site := a.Site()
	hours := int(math.Round(site.Policy.TemporaryPasswordTTL.Hours()))
	base := strings.TrimRight(s.opt.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if s.opt.Secure || r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	signIn := base + sitePath(site, "login")
	return &tempView{Username: c.User.Username, Name: c.User.FullName(), Password: c.TemporaryPassword,
		UserPath: userPath(site, c.User.Username), Hours: hours, Created: created,
		Message: fmt.Sprintf("Your username for %s is %s. Your temporary password for %s is %s; it works once, within %d hours; sign in at %s and then choose your own password.",
			site.Name, c.User.Username, site.Name, c.TemporaryPassword, hours, signIn)}
}

// tempRender shows the temporary-password page. It holds a secret, so no cache may keep it:
// going back to it sends the form again, which then says the password was shown already.
func (s *Server) tempRender(w http.ResponseWriter, r *http.Request, status int, v *consoleView) {
	w.Header().Set("Cache-Control", "no-store")
	s.consoleRender(w, r, status, "admin_temp", v)
}

// consoleTemporaryPassword issues a temporary password and shows it on this one answer; it is
// never stored or shown again. Only the first sending of the user page's form token does: a
// repeat says the password was shown already, and a form without a live token asks again.
func (s *Server) consoleTemporaryPassword(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	username := r.PathValue("username")
	once, err := s.useForm(r, a.Principal(), formTemporaryPassword(username))
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v := s.consoleView(r, a)
	if !once.Acts() {
		d, err := a.User(r.Context(), username) // the name to show, and a 403 outside the admin's scope
		if err != nil {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		u := d.User
		v.Temp = &tempView{Username: u.Username, Name: u.FullName(), UserPath: userPath(a.Site(), u.Username),
			Repeat: once.Repeat(), Pending: once.Repeat() && !once.Finished(), Confirm: once.Stale()}
		if once.Stale() {
			if v.FormToken, err = s.userPageFormToken(r, a, u.Username); err != nil {
				s.consoleError(w, r, a.Site(), err)
				return
			}
		}
		s.tempRender(w, r, http.StatusOK, v)
		return
	}
	c, err := a.SetTemporaryPassword(r.Context(), username)
	if err != nil {
		s.undo(r, once)
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.done(r, once, formResult{Username: c.User.Username, Name: c.User.FullName()})
	v.Temp = s.tempView(r, a, c, false)
	s.tempRender(w, r, http.StatusOK, v)
}

// consoleAgreement records a signed user agreement from the form on the user's page.
func (s *Server) consoleAgreement(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	username := r.PathValue("username")
	var ag auth.Agreement
	var err error
	for _, f := range []struct {
		field, label string
		to           *hmisauth.Date
	}{{"signed_on", "The user's signature date", &ag.Signed}, {"supervisor_signed_on", "The supervisor's signature date", &ag.Supervisor},
		{"director_signed_on", "The director's signature date", &ag.Director}, {"expires_on", "The expiry date", &ag.Expires}} {
		d, perr := hmisauth.ParseDate(f.field, f.label, r.PostFormValue(f.field))
		if perr != nil && err == nil {
			err = perr
		}
		*f.to = d
	}
	if err == nil {
		_, err = a.RecordAgreement(r.Context(), username, ag)
	}
	if err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.EFORBIDDEN || hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		v, verr := s.userPageView(r, a, username)
		if verr != nil {
			s.consoleError(w, r, a.Site(), verr)
			return
		}
		v.fields = append(v.fields, "signed_on", "supervisor_signed_on", "director_signed_on", "expires_on")
		s.consoleFormError(w, r, "admin_user", v, err)
		return
	}
	redirect(w, r, userPath(a.Site(), username)+"?done=agreement_recorded")
}
