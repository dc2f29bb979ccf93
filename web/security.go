package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// securityView is the security settings page and its sub-pages.
type securityView struct {
	// Open is false when the password must be typed again first; OpenUntil says until when
	// the settings stay open ("3:04 PM CST").
	Open      bool
	OpenUntil string
	Factors   *hmisauth.SecondFactors
	Required  bool // the site's mfa.required applies to this user
	Setup     bool // setting up 2-step verification is the user's required action
	// Enrolment is the authenticator app being set up, with its QR code as a data: URL (a
	// PNG we drew, so marked safe for the template).
	Enrolment *auth.TOTPEnrolment
	QRCode    template.URL
	// SecretGroups is the secret in groups of four, easier to type: apps ignore the spaces.
	SecretGroups string
	// Codes are new recovery codes, shown once. CodesShown: the form that made them was sent
	// again, and the codes its first sending showed are not shown again.
	Codes      []string
	CodesShown bool
	// Continue is set when the codes come in the middle of a sign-in for an application: the
	// page's link goes on to it.
	Continue bool
	// Passkeys lists the user's passkeys with their dates worded.
	Passkeys []passkeyRow
	// PasskeyScript is the address of the script that adds passkeys; "" when they cannot be
	// used at this server's address, so none is offered.
	PasskeyScript string
}

type passkeyRow struct {
	ID       int64
	Name     string
	Added    string
	LastUsed string
}

// securityPage is the security settings: behind the password typed again, it offers the
// password, 2-step verification (app, recovery codes, passkeys), the security question and
// the sessions.
func (s *Server) securityPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "account/security")
	if p == nil {
		return
	}
	v, err := s.securityView(r, p)
	if err != nil {
		s.errorPage(w, r, p.Site, err)
		return
	}
	s.render(w, r, http.StatusOK, "security", v)
}

func (s *Server) securityView(r *http.Request, p *auth.Principal) (*view, error) {
	now := s.clock.Now()
	v := s.newView(r, p.Site)
	v.Principal = p
	sec := &securityView{Open: p.ReauthFresh(now), Setup: p.NextAction() == hmisauth.ActionSetupMFA,
		Required: auth.MFARequired(p.Site, p.User), PasskeyScript: s.passkeyScript()}
	v.Security = sec
	if !sec.Open {
		v.fields = []string{"password"}
		return v, nil
	}
	sec.OpenUntil = untilText(p.Site, p.ReauthUntil(), now)
	f, err := s.svc.SecondFactors(r.Context(), p)
	if err != nil {
		return nil, err
	}
	sec.Factors = f
	if f.Enabled() {
		// "Make new recovery codes" shows them once: its form acts once (formtoken.go).
		if v.FormToken, err = s.formToken(r, p, formRecoveryCodes); err != nil {
			return nil, err
		}
	}
	for _, k := range f.Passkeys {
		row := passkeyRow{ID: k.ID, Name: k.Name, Added: k.CreatedAt.In(p.Site.Loc()).Format("January 2, 2006")}
		if !k.LastUsedAt.IsZero() {
			row.LastUsed = untilText(p.Site, k.LastUsedAt, now)
		}
		sec.Passkeys = append(sec.Passkeys, row)
	}
	return v, nil
}

// reauthSubmit takes the password typed again, opens the settings for session.reauth, and
// gives the browser a new session token.
func (s *Server) reauthSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	token, err := s.svc.Reauthenticate(r.Context(), p, r.PostFormValue("password"), true)
	if err != nil {
		v, verr := s.securityView(r, p)
		if verr != nil {
			s.errorPage(w, r, p.Site, verr)
			return
		}
		s.formError(w, r, "security", v, err, nil)
		return
	}
	s.setSession(w, p.Site, token)
	redirect(w, r, sitePath(p.Site, "account/security"))
}

// refused answers a refusal that has no form to show it on: closed settings go to the
// password prompt, a pending required action to its page, anything else to the error page.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) {
	switch hmisauth.ErrorCode(err) {
	case hmisauth.EReauthRequired:
		redirect(w, r, sitePath(p.Site, "account/security?notice=reauth"))
	case hmisauth.EActionRequired:
		redirect(w, r, nextPage(p))
	default:
		s.errorPage(w, r, p.Site, err)
	}
}

// totpPage shows the authenticator app being set up (QR code, secret, first code), or a
// button to begin. It is also the setup_mfa required action's page.
func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "account/security/totp")
	if p == nil {
		return
	}
	v, err := s.totpView(r, p)
	if err != nil {
		s.refused(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, "security_totp", v)
}

func (s *Server) totpView(r *http.Request, p *auth.Principal) (*view, error) {
	v := s.newView(r, p.Site)
	v.Principal = p
	v.fields = []string{"code"}
	sec := &securityView{Setup: p.NextAction() == hmisauth.ActionSetupMFA}
	if sec.Setup {
		sec.PasskeyScript = s.passkeyScript()
	}
	v.Security = sec
	e, err := s.svc.PendingTOTP(r.Context(), p)
	switch hmisauth.ErrorCode(err) {
	case "":
		// Turning the app on shows the recovery codes once: the form acts once (formtoken.go).
		if v.FormToken, err = s.formToken(r, p, formTOTPConfirm); err != nil {
			return nil, err
		}
		sec.Enrolment = e
		sec.QRCode = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCode))
		for i := 0; i < len(e.Secret); i += 4 {
			sec.SecretGroups += " " + e.Secret[i:min(i+4, len(e.Secret))]
		}
		sec.SecretGroups = strings.TrimSpace(sec.SecretGroups)
	case hmisauth.ENOTFOUND:
	default:
		return nil, err
	}
	f, err := s.svc.SecondFactors(r.Context(), p)
	if err != nil {
		return nil, err
	}
	sec.Factors = f
	return v, nil
}

// totpStart makes a new secret to set up and shows it, by post/redirect/get: a reload of the
// page shows the same secret, and a double click leaves one secret pending, the one the page
// shows.
func (s *Server) totpStart(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	if _, err := s.svc.StartTOTP(r.Context(), p); err != nil {
		s.refused(w, r, p, err)
		return
	}
	redirect(w, r, sitePath(p.Site, "account/security/totp"))
}

// totpConfirm turns the app on with its first code and shows the recovery codes once, on the
// form's token's first sending: a repeat says they were shown, and shows them no more.
func (s *Server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	once, err := s.useForm(r, p, formTOTPConfirm)
	if err != nil {
		s.errorPage(w, r, p.Site, err)
		return
	}
	if once.Repeat() {
		s.showCodes(w, r, p, nil)
		return
	}
	defer s.release(r, once)
	var codes []string
	if once.Stale() {
		err = staleForm("Nothing was done: this page had expired. If 2-step verification is not on yet, type the code " +
			"your app shows now and press “Turn on 2-step verification” again.")
	} else {
		codes, err = s.svc.ConfirmTOTP(r.Context(), p, r.PostFormValue("code"))
	}
	if err != nil {
		v, verr := s.totpView(r, p)
		if verr != nil {
			s.refused(w, r, p, verr)
			return
		}
		s.formError(w, r, "security_totp", v, err, nil)
		return
	}
	s.done(r, once, formResult{})
	s.showCodes(w, r, p, codes)
}

// showCodes shows new recovery codes: the only time they are ever shown. Without codes it is
// the answer to their form sent again, which says they were shown. No cache keeps the page:
// going back to it sends the form again.
func (s *Server) showCodes(w http.ResponseWriter, r *http.Request, p *auth.Principal, codes []string) {
	v := s.newView(r, p.Site)
	v.Principal = p
	v.Security = &securityView{Codes: codes, CodesShown: codes == nil,
		Continue: s.cookieValue(r, p.Site, continueCookie) != ""}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "recovery_codes", v)
}

// totpDisable turns the authenticator app off, by post/redirect/get. Sent twice (a double
// click), the second finds no app and ends where the first did.
func (s *Server) totpDisable(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	if err := s.svc.DisableTOTP(r.Context(), p); err != nil && hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
		s.securityFormError(w, r, p, err)
		return
	}
	redirect(w, r, sitePath(p.Site, "account/security?notice=totp_off"))
}

// recoveryCodesNew replaces the recovery codes and shows the new ones, on the form's token's
// first sending: a repeat would replace the codes just shown, so it says they were shown.
func (s *Server) recoveryCodesNew(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	once, err := s.useForm(r, p, formRecoveryCodes)
	if err != nil {
		s.errorPage(w, r, p.Site, err)
		return
	}
	if once.Repeat() {
		s.showCodes(w, r, p, nil)
		return
	}
	defer s.release(r, once)
	if once.Stale() {
		s.securityFormError(w, r, p, staleForm("No new recovery codes were made: this page had expired. "+
			"If you need new ones, press “Make new recovery codes” again."))
		return
	}
	codes, err := s.svc.NewRecoveryCodes(r.Context(), p)
	if err != nil {
		s.securityFormError(w, r, p, err)
		return
	}
	s.done(r, once, formResult{})
	s.showCodes(w, r, p, codes)
}

// securityFormError shows a refused change on the security page itself.
func (s *Server) securityFormError(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) {
	v, verr := s.securityView(r, p)
	if verr != nil {
		s.errorPage(w, r, p.Site, verr)
		return
	}
	s.formError(w, r, "security", v, err, nil)
}

// untilText words a time of day (and the day, when not today) in the site's timezone.
func untilText(site *hmisauth.Site, t, now time.Time) string {
	loc := site.Loc()
	return clockTime(t.In(loc), now.In(loc))
}
