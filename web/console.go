package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The helpdesk console (/{site}/admin/…): server-rendered pages over *auth.Admin, which is the
// only door to administration. Every handler turns the signed-in principal into an Admin
// first; roles and agency scope are checked there, never here.

// consoleView is what the console's pages show: the common page view plus the console's own
// parts, so the base layout (banner, header, error summary) works unchanged.
type consoleView struct {
	*view
	Sysadmin bool
	// Done is what the last action did, worded; only the texts of consoleDone are shown.
	Done string

	Users      *userListView
	Detail     *userDetailView
	Temp       *tempView
	NewUser    *userForm
	Agencies   []agencyRow
	AgencyForm *agencyForm
	Audit      *auditView
	Report     *reportView
	Import     *importView
	Created    []importCreated
	Clients    *clientsView
	Client     *clientPageView
	// apps is set when the server signs applications in (single sign-on is on).
	apps bool
}

// userFieldsView is what the user-fields template (the create and edit forms' fields) shows.
type userFieldsView struct {
	V        *consoleView
	F        *userForm
	Creating bool
}

// UserFields hands the user-fields template the form and this page's errors.
func (v *consoleView) UserFields(f *userForm, creating bool) userFieldsView {
	return userFieldsView{V: v, F: f, Creating: creating}
}

// navItem is one link of the console's navigation.
type navItem struct {
	Link, Label string
	Current     bool
}

// Nav is the console's navigation with the current page (users, new, agencies, reports,
// import, clients, audit; "" for none) marked. Applications and the audit log are a sysadmin's
// only.
func (v *consoleView) Nav(current string) []navItem {
	type page struct{ key, path, label string }
	pages := []page{{"users", "users", "Users"}, {"new", "users/new", "Create a user"},
		{"agencies", "agencies", "Agencies"}, {"import", "import", "Import users"}, {"reports", "reports", "Reports"}}
	if v.Sysadmin && v.apps {
		pages = append(pages, page{"clients", "clients", "Applications"})
	}
	if v.Sysadmin {
		pages = append(pages, page{"audit", "audit", "Audit log"})
	}
	var items []navItem
	for _, p := range pages {
		items = append(items, navItem{Link: adminPath(v.Site, p.path), Label: p.label, Current: p.key == current})
	}
	return append(items, navItem{Link: sitePath(v.Site, "account"), Label: "Your account"})
}

// consoleDone words each action's notice (?done=KEY on the user page).
var consoleDone = map[string]string{
	"unlocked":           "The account was unlocked. They can sign in with their password again.",
	"disabled":           "The account was disabled. It cannot sign in until it is enabled again, and its sessions were ended.",
	"enabled":            "The account was enabled. It can sign in again.",
	"expired":            "The password was expired. They must choose a new one at their next sign-in.",
	"sessions_ended":     "All the user's sessions were ended. They must sign in again everywhere.",
	"mfa_reset":          "2-step verification was reset and the user was signed out everywhere. They sign in with their password alone, and set it up again if the site requires it.",
	"saved":              "The changes were saved.",
	"agency_saved":       "The agency was saved.",
	"agency_created":     "The agency was added.",
	"temporary_issued":   "A temporary password was issued.",
	"agreement_recorded": "The user agreement was recorded.",
	"client_saved":       "The application was saved.",
	"client_removed":     "The application was removed. Its tokens no longer work.",
	"client_added_public": "The application was added. It is public: it has no secret and must use PKCE. " +
		"Give it the client ID below.",
	"rotation_finished": "The old secret no longer works. Only the newest one does.",
}

// consoleAdmin returns the signed-in administrator of a console page (GET), or nil when it
// has answered already: sign in first, a pending required action, or a 403 page.
func (s *Server) consoleAdmin(w http.ResponseWriter, r *http.Request) *auth.Admin {
	p := s.signedInPage(w, r, "admin")
	if p == nil {
		return nil
	}
	return s.adminOf(w, r, p)
}

// consoleAdminForm parses a console form (POST) and returns its administrator, or nil when it
// has answered already.
func (s *Server) consoleAdminForm(w http.ResponseWriter, r *http.Request) *auth.Admin {
	p := s.signedInForm(w, r)
	if p == nil {
		return nil
	}
	if pendingElsewhere(w, r, p, "admin") {
		return nil
	}
	return s.adminOf(w, r, p)
}

func (s *Server) adminOf(w http.ResponseWriter, r *http.Request, p *auth.Principal) *auth.Admin {
	a, err := s.svc.Admin(p)
	if err != nil {
		s.consoleError(w, r, p.Site, err)
		return nil
	}
	return a
}

// consoleView starts a console page's view.
func (s *Server) consoleView(r *http.Request, a *auth.Admin) *consoleView {
	v := &consoleView{view: s.newView(r, a.Site()), Sysadmin: a.IsSysadmin(), apps: s.opt.OIDC != nil}
	v.Principal, v.Wide = a.Principal(), true
	v.Done = consoleDone[r.URL.Query().Get("done")]
	return v
}

// consoleRender renders a console page like render.
func (s *Server) consoleRender(w http.ResponseWriter, r *http.Request, status int, name string, v *consoleView) {
	s.renderData(w, r, status, name, v.view, v)
}

// consoleError answers an error that has no form to go on: a refusal gets the console's own
// 403 page, which says plainly that this administrator cannot do that; the rest the error page.
func (s *Server) consoleError(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, err error) {
	switch hmisauth.ErrorCode(err) {
	case hmisauth.EFORBIDDEN:
		v := &consoleView{view: s.newView(r, site)}
		v.Status, v.Message = http.StatusForbidden, hmisauth.ErrorMessage(err)
		s.consoleRender(w, r, http.StatusForbidden, "admin_forbidden", v)
	case hmisauth.EUnauthorized, hmisauth.ESessionExpired:
		s.signedOut(w, r, site, err)
	default:
		s.errorPage(w, r, site, err)
	}
}

// consoleFormError shows a refused console form again with the error in the summary and next
// to its field.
func (s *Server) consoleFormError(w http.ResponseWriter, r *http.Request, page string, v *consoleView, err error) {
	status, e := s.status(r, err)
	if e == nil {
		s.internalError(w, r)
		return
	}
	if e.Code == hmisauth.EFORBIDDEN || e.Code == hmisauth.EUnauthorized || e.Code == hmisauth.ESessionExpired {
		s.consoleError(w, r, v.Site, err)
		return
	}
	v.setError(e)
	setErrorHeaders(w, e)
	s.consoleRender(w, r, status, page, v)
}

// adminPath is the address of a console page.
func adminPath(site *hmisauth.Site, page string) string {
	return sitePath(site, "admin/"+page)
}

// userPath is the console page of one user.
func userPath(site *hmisauth.Site, username string) string {
	return adminPath(site, "users/"+url.PathEscape(username))
}

// consoleHome sends /{site}/admin/ to the user list.
func (s *Server) consoleHome(w http.ResponseWriter, r *http.Request) {
	if a := s.consoleAdmin(w, r); a != nil {
		redirect(w, r, adminPath(a.Site(), "users"))
	}
}

// siteTime writes t in the site's timezone, or "" for the zero time.
func siteTime(site *hmisauth.Site, t time.Time) string {
	return siteTimeIn(site, t, "Jan 2, 2006 3:04 PM MST")
}

// siteTimeIn is siteTime with another layout (the audit log's, with seconds).
func siteTimeIn(site *hmisauth.Site, t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.In(site.Loc()).Format(layout)
}

type option struct {
	Value, Label string
	Selected     bool
}

// userListView is the user list with its filters.
type userListView struct {
	Query, Agency, Status string
	Agencies              []option
	Statuses              []option
	Rows                  []userRow
	Next                  string // the next page's address, "" on the last
}

type userRow struct {
	Username, Name, Agency, Status, Link string
	// CanSignIn is false when any problem blocks sign-in; Problems names each, blocking first.
	CanSignIn bool
	Problems  []string
}

// problemLabels names the login doctor's problems in a few words, for the user list.
var problemLabels = map[string]string{
	hmisauth.ProblemLocked:                   "Locked",
	hmisauth.ProblemInactive:                 "Inactive too long",
	hmisauth.ProblemDisabled:                 "Disabled",
	hmisauth.ProblemPasswordExpired:          "Password expired",
	hmisauth.ProblemTemporaryPasswordExpired: "Temporary password expired",
	hmisauth.ProblemTemporaryPasswordUsed:    "Temporary password used up",
	hmisauth.ProblemLicenseExpired:           "Agency license expired",
	hmisauth.ProblemAgreementExpired:         "User agreement expired",
	hmisauth.ProblemNoEmail:                  "No e-mail address",
	hmisauth.ProblemNoRecoveryInfo:           "No security question",
	hmisauth.ProblemTermsNotAccepted:         "Terms not accepted yet",
}

// problemSummary is the row's view of a diagnosis: whether the user can sign in, and the
// problems' labels with the blocking ones first.
func problemSummary(d *auth.Diagnosis) (bool, []string) {
	var blocking, other []string
	for _, p := range d.Problems {
		label := problemLabels[p.Code]
		if label == "" {
			label = p.Code
		}
		if p.Blocking {
			blocking = append(blocking, label)
		} else {
			other = append(other, label)
		}
	}
	return len(blocking) == 0, append(blocking, other...)
}

// consoleUsers lists the users in scope: search, agency and status filters, paged.
func (s *Server) consoleUsers(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v := s.consoleView(r, a)
	v.fields = []string{"q", "agency", "status"}
	q := r.URL.Query()
	l := &userListView{Query: q.Get("q"), Agency: q.Get("agency"), Status: q.Get("status")}
	v.Users = l
	for _, st := range auth.UserStatuses {
		// Each status is the login doctor's problem of the same code (auth.Admin.Users filters on it).
		l.Statuses = append(l.Statuses, option{Value: st, Label: problemLabels[st], Selected: st == l.Status})
	}
	if a.IsSysadmin() {
		ags, err := a.Agencies(r.Context())
		if err != nil {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		for _, ag := range ags {
			l.Agencies = append(l.Agencies, option{Value: ag.Name, Label: ag.Name, Selected: ag.Name == l.Agency})
		}
	}
	page, err := a.Users(r.Context(), auth.UserFilter{Text: l.Query, Agency: l.Agency, Status: l.Status,
		After: q.Get("after"), Limit: consolePageSize})
	if err != nil {
		s.consoleFormError(w, r, "admin_users", v, err)
		return
	}
	for _, d := range page.Users {
		row := userRow{Username: d.User.Username, Name: d.User.FullName(), Status: auth.Status(d.User),
			Link: userPath(a.Site(), d.User.Username)}
		row.CanSignIn, row.Problems = problemSummary(d)
		if d.Agency != nil {
			row.Agency = d.Agency.Name
		}
		l.Rows = append(l.Rows, row)
	}
	if page.Next != "" {
		next := url.Values{"after": {page.Next}}
		for k, val := range map[string]string{"q": l.Query, "agency": l.Agency, "status": l.Status} {
			if val != "" {
				next.Set(k, val)
			}
		}
		l.Next = adminPath(a.Site(), "users") + "?" + next.Encode()
	}
	s.consoleRender(w, r, http.StatusOK, "admin_users", v)
}

// consolePageSize is how many users one page of the list shows.
const consolePageSize = 50

// userDetailView is one user's page: the login doctor, details, actions and the edit form.
type userDetailView struct {
	D        *auth.Diagnosis
	Path     string // the user's page
	Status   string
	Problems []problemView
	Details  []detail
	Form     *userForm
	// Sessions are where the user is signed in now, with the applications of each.
	Sessions []sessionRow
}

type problemView struct {
	Code, Message, Since, Advice string
	Blocking                     bool
	// Fix is the action of the button that fixes the problem ("" for none); FixLabel its words.
	Fix, FixLabel string
	// Link is a page where the fix is done instead (the agency's license).
	Link, LinkLabel string
}

type detail struct{ Name, Value string }

// userForm is the create and edit form's values: saved, or typed into a refused form.
type userForm struct {
	First, Last, Email, Phone, Agency, Role string
	Username, Generated                     string // create only
	Previewed                               bool
	Agencies                                []option // a sysadmin chooses; empty for an agency admin
	Roles                                   []option
}

var roleLabels = []struct{ Value, Label string }{
	{string(hmisauth.RoleUser), "User"},
	{string(hmisauth.RoleAgencyAdmin), "Agency administrator"},
	{string(hmisauth.RoleSysadmin), "System administrator"},
}

// choices fills the form's agency and role lists, marking the current ones.
func (f *userForm) choices(a *auth.Admin, agencies []*hmisauth.Agency) {
	f.Agencies, f.Roles = nil, nil
	if a.IsSysadmin() {
		f.Agencies = append(f.Agencies, option{Value: "", Label: "No agency", Selected: f.Agency == ""})
		for _, ag := range agencies {
			f.Agencies = append(f.Agencies, option{Value: ag.Name, Label: ag.Name, Selected: strings.EqualFold(ag.Name, f.Agency)})
		}
	}
	for _, r := range roleLabels {
		if r.Value == string(hmisauth.RoleSysadmin) && !a.IsSysadmin() {
			continue
		}
		f.Roles = append(f.Roles, option{Value: r.Value, Label: r.Label, Selected: r.Value == f.Role})
	}
}

// adviceByCode is what the helpdesk does about each problem in the console; problems not
// listed keep the doctor's own words.
var adviceByCode = map[string]string{
	hmisauth.ProblemDisabled:                 "Enable the account if the person should still have access.",
	hmisauth.ProblemLocked:                   "Confirm who is calling, then unlock the account, or issue a temporary password, which also unlocks it.",
	hmisauth.ProblemInactive:                 "If the person still needs access, issue a temporary password, which reactivates the account.",
	hmisauth.ProblemTemporaryPasswordUsed:    "Issue a new temporary password.",
	hmisauth.ProblemTemporaryPasswordExpired: "Issue a new temporary password.",
	hmisauth.ProblemPasswordExpired:          "Nothing to do if they remember it: they choose a new one at their next sign-in. Otherwise issue a temporary password.",
	hmisauth.ProblemNoEmail:                  "Add their work e-mail address in the form below.",
	hmisauth.ProblemAgreementExpired:         "Have the user, supervisor and executive director sign a new user agreement, then record it.",
}

func (s *Server) userDetail(r *http.Request, a *auth.Admin, d *auth.Diagnosis) (*userDetailView, error) {
	site, u := a.Site(), d.User
	dv := &userDetailView{D: d, Path: userPath(site, u.Username), Status: auth.Status(u)}
	for _, p := range d.Problems {
		pv := problemView{Code: p.Code, Message: p.Message, Since: siteTime(site, p.Since), Blocking: p.Blocking,
			Advice: p.Fix}
		if adv, ok := adviceByCode[p.Code]; ok {
			pv.Advice = adv
		}
		switch p.Code {
		case hmisauth.ProblemDisabled:
			pv.Fix, pv.FixLabel = "enable", "Enable the account"
		case hmisauth.ProblemLocked:
			pv.Fix, pv.FixLabel = "unlock", "Unlock the account"
		case hmisauth.ProblemInactive, hmisauth.ProblemTemporaryPasswordUsed, hmisauth.ProblemTemporaryPasswordExpired,
			hmisauth.ProblemPasswordExpired:
			pv.Fix, pv.FixLabel = "temporary-password", "Issue a temporary password"
		case hmisauth.ProblemLicenseExpired:
			if a.IsSysadmin() && d.Agency != nil {
				pv.Advice = "Renew the agency's license: enter its new expiry date on the agency's page."
				pv.Link, pv.LinkLabel = adminPath(site, fmt.Sprintf("agencies/%d", d.Agency.ID)), "Renew the license of "+d.Agency.Name
			} else {
				pv.Advice = "Ask your system administrator to renew your agency's license."
			}
		}
		dv.Problems = append(dv.Problems, pv)
	}
	agency := "None"
	if d.Agency != nil {
		agency = d.Agency.Name
	}
	never := func(t time.Time) string {
		if t.IsZero() {
			return "Never"
		}
		return siteTime(site, t)
	}
	role := string(u.Role)
	for _, rl := range roleLabels {
		if rl.Value == role {
			role = rl.Label
		}
	}
	email := u.Email
	if email == "" {
		email = "None on file"
	}
	phone := u.Phone
	if phone == "" {
		phone = "None on file"
	}
	agreement := "Not recorded"
	if !u.AgreementSignedOn.IsZero() {
		agreement = "Signed " + string(u.AgreementSignedOn)
		if !u.AgreementExpiresOn.IsZero() {
			agreement += ", expires " + string(u.AgreementExpiresOn)
		}
	}
	dv.Details = []detail{{"Username", u.Username}, {"Name", u.FullName()}, {"Agency", agency}, {"Role", role},
		{"E-mail", email}, {"Phone", phone}, {"Status", dv.Status},
		{"Failed sign-in attempts", fmt.Sprint(u.FailedAttempts)},
		{"Last sign-in", never(u.LastLoginAt)}, {"Password set", never(u.PasswordChangedAt)},
		{"Account created", never(u.CreatedAt)}, {"User agreement", agreement},
		{"2-step verification", mfaDetail(d)}}

	f := &userForm{First: u.FirstName, Last: u.LastName, Email: u.Email, Phone: u.Phone, Role: string(u.Role)}
	if d.Agency != nil {
		f.Agency = d.Agency.Name
	}
	var ags []*hmisauth.Agency
	if a.IsSysadmin() {
		var err error
		if ags, err = a.Agencies(r.Context()); err != nil {
			return nil, err
		}
	}
	f.choices(a, ags)
	dv.Form = f
	return dv, nil
}

// mfaDetail words the account's 2-step verification for the helpdesk.
func mfaDetail(d *auth.Diagnosis) string {
	f := d.Factors
	if f == nil || !f.Enabled() {
		if auth.MFARequired(d.Site, d.User) {
			return "Off; the site requires it, so they set it up at their next sign-in"
		}
		return "Off"
	}
	var on []string
	if f.TOTP.Confirmed() {
		on = append(on, "authenticator app")
	}
	if n := len(f.Passkeys); n == 1 {
		on = append(on, "1 passkey")
	} else if n > 1 {
		on = append(on, fmt.Sprintf("%d passkeys", n))
	}
	return fmt.Sprintf("On (%s), %d recovery codes left", strings.Join(on, " and "), f.RecoveryCodesLeft)
}

// userPageView loads a user's page; the error is the Admin's (403 outside scope).
func (s *Server) userPageView(r *http.Request, a *auth.Admin, username string) (*consoleView, error) {
	d, err := a.User(r.Context(), username)
	if err != nil {
		return nil, err
	}
	v := s.consoleView(r, a)
	v.fields = []string{"first", "last", "email", "phone", "agency", "role"}
	if v.Detail, err = s.userDetail(r, a, d); err != nil {
		return nil, err
	}
	if v.Detail.Sessions, err = s.userSessionRows(r, a, d.User.Username); err != nil {
		return nil, err
	}
	return v, nil
}

// consoleUser is a user's page: the login doctor on top, then details, actions and editing.
func (s *Server) consoleUser(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.userPageView(r, a, r.PathValue("username"))
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_user", v)
}

// consoleUserSave saves the edit form. Fields the form did not send stay as they are.
func (s *Server) consoleUserSave(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	v, err := s.userPageView(r, a, r.PathValue("username"))
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	var c auth.ProfileChange
	f := v.Detail.Form
	for _, fld := range []struct {
		name string
		to   **string
		show *string
	}{{"first", &c.FirstName, &f.First}, {"last", &c.LastName, &f.Last}, {"email", &c.Email, &f.Email},
		{"phone", &c.Phone, &f.Phone}, {"agency", &c.Agency, &f.Agency}, {"role", &c.Role, &f.Role}} {
		if vals, ok := r.PostForm[fld.name]; ok {
			val := vals[0]
			*fld.to, *fld.show = &val, val
		}
	}
	u, err := a.UpdateUser(r.Context(), v.Detail.D.User.Username, c)
	if err != nil {
		f.choices(a, s.agenciesOrNil(r, a))
		s.consoleFormError(w, r, "admin_user", v, err)
		return
	}
	redirect(w, r, userPath(a.Site(), u.Username)+"?done=saved")
}

func (s *Server) agenciesOrNil(r *http.Request, a *auth.Admin) []*hmisauth.Agency {
	if !a.IsSysadmin() {
		return nil
	}
	ags, _ := a.Agencies(r.Context())
	return ags
}

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

func (s *Server) consoleSetDisabled(disabled bool) http.HandlerFunc {
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	return s.consoleStep(done, func(a *auth.Admin, r *http.Request, username string) error {
		_, err := a.SetDisabled(r.Context(), username, disabled)
		return err
	})
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
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.userPageView(r, a, r.PathValue("username"))
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_disable", v)
}

// tempView is the page that shows a temporary password, once.
type tempView struct {
	Username, Name, Password, Message, UserPath string
	Hours                                       int
	Created                                     bool
}

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

// consoleTemporaryPassword issues a temporary password and shows it on this one answer; it is
// never stored or shown again.
func (s *Server) consoleTemporaryPassword(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	c, err := a.SetTemporaryPassword(r.Context(), r.PathValue("username"))
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v := s.consoleView(r, a)
	v.Temp = s.tempView(r, a, c, false)
	s.consoleRender(w, r, http.StatusOK, "admin_temp", v)
}

// newUserView is the create form's view.
func (s *Server) newUserView(r *http.Request, a *auth.Admin) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.fields = []string{"first", "last", "email", "phone", "agency", "role", "username"}
	v.NewUser = &userForm{Role: string(hmisauth.RoleUser)}
	if a.IsSysadmin() {
		ags, err := a.Agencies(r.Context())
		if err != nil {
			return nil, err
		}
		v.NewUser.choices(a, ags)
	} else {
		v.NewUser.choices(a, nil)
	}
	return v, nil
}

// consoleNewUser shows the create form.
func (s *Server) consoleNewUser(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.newUserView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_user_new", v)
}

// consoleCreateUser is the create form's two steps: "preview" fills in the generated username
// for checking and editing; "create" saves the account and shows its temporary password once.
func (s *Server) consoleCreateUser(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	v, err := s.newUserView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	f := v.NewUser
	f.First, f.Last = r.PostFormValue("first"), r.PostFormValue("last")
	f.Email, f.Phone = r.PostFormValue("email"), r.PostFormValue("phone")
	f.Agency, f.Role = r.PostFormValue("agency"), r.PostFormValue("role")
	f.Username, f.Generated = strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("generated")
	f.choices(a, s.agenciesOrNil(r, a))

	if r.PostFormValue("step") != "create" {
		switch {
		case strings.TrimSpace(f.First) == "":
			err = hmisauth.FieldError("first", "Enter the person's first name.")
		case strings.TrimSpace(f.Last) == "":
			err = hmisauth.FieldError("last", "Enter the person's last name.")
		}
		if err != nil {
			s.consoleFormError(w, r, "admin_user_new", v, err)
			return
		}
		if f.Username == "" || f.Username == f.Generated {
			if f.Username, err = a.FreeUsername(r.Context(), f.First, f.Last); err != nil {
				s.consoleFormError(w, r, "admin_user_new", v, err)
				return
			}
			f.Generated = f.Username
		}
		f.Previewed = true
		s.consoleRender(w, r, http.StatusOK, "admin_user_new", v)
		return
	}
	username := f.Username
	if username != "" && username == f.Generated && strings.HasPrefix(username, auth.BaseUsername(f.First, f.Last)) {
		// Still the generated one: let CreateUser number it should someone have taken it since.
		username = ""
	}
	c, err := a.CreateUser(r.Context(), auth.NewUser{FirstName: f.First, LastName: f.Last, Email: f.Email,
		Phone: f.Phone, Agency: f.Agency, Role: f.Role, Username: username})
	if err != nil {
		var unavailable *auth.UsernameUnavailable
		if errors.As(err, &unavailable) && unavailable.Free != "" {
			// The offer goes into the field, as a generated name: pressing "Create" again takes
			// it (or the next one free by then).
			f.Username, f.Generated = unavailable.Free, unavailable.Free
		}
		f.Previewed = f.Username != ""
		s.consoleFormError(w, r, "admin_user_new", v, err)
		return
	}
	v.Temp = s.tempView(r, a, c, true)
	v.Done = "The account " + c.User.Username + " was created."
	s.consoleRender(w, r, http.StatusCreated, "admin_temp", v)
}
