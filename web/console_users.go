package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The console's user list and a user's page: the login doctor's findings, the details and
// the edit form.

// userListView is the user list with its filters.
type userListView struct {
	Query, Agency, Status string
	Agencies              []option
	Statuses              []option
	Rows                  []userRow
	Next                  string // the next page's address, "" on the last
}

type userRow struct {
	Username, Name, Agency, Link string
	// Status is in words (statusLabels); LastSignIn in the console's date format, or "Never".
	Status, LastSignIn string
	// CanSignIn is false when any problem blocks sign-in; Problems names each, blocking first.
	CanSignIn bool
	Problems  []string
}

// problemLabels names the login doctor's problems in a few words, for the user list.
var problemLabels = map[string]string{
	hmisauth.ProblemLocked:                   "Locked",
	hmisauth.ProblemInactive:                 "Inactive too long",
	hmisauth.ProblemInactiveTraining:         "Training needed after inactivity",
	hmisauth.ProblemDisabled:                 "Disabled",
	hmisauth.ProblemPasswordExpired:          "Password expired",
	hmisauth.ProblemTemporaryPasswordExpired: "Temporary password expired",
	hmisauth.ProblemTemporaryPasswordUsed:    "Temporary password used up",
	hmisauth.ProblemLicenseExpired:           "Agency license expired",
	hmisauth.ProblemAgreementExpired:         "User agreement expired",
	hmisauth.ProblemNoEmail:                  "No e-mail address",
	hmisauth.ProblemNoRecoveryInfo:           "No security question",
	hmisauth.ProblemTermsNotAccepted:         "Terms not accepted yet",
	hmisauth.ProblemTrainingMissing:          "Required training missing",
	hmisauth.ProblemTrainingExpired:          "Required training lapsed",
}

// statusLabels words auth.Status for people: never a raw code on a page.
var statusLabels = map[string]string{
	"active":            "Active",
	auth.StatusLocked:   "Locked",
	auth.StatusDisabled: "Disabled",
}

// statusLabel is the account's status in words.
func statusLabel(u *hmisauth.User) string {
	st := auth.Status(u)
	if label, ok := statusLabels[st]; ok {
		return label
	}
	return st
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
	if err := s.setReviewNag(r, a, v, nil); err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
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
		row := userRow{Username: d.User.Username, Name: d.User.FullName(), Status: statusLabel(d.User),
			LastSignIn: siteTimeOr(a.Site(), d.User.LastLoginAt, "Never"), Link: userPath(a.Site(), d.User.Username)}
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

// userDetailView is one user's page: the plain answer, the login doctor's problems with their
// fixes, the details, the actions and the edit form.
type userDetailView struct {
	D    *auth.Diagnosis
	Path string // the user's page
	// Who is how the answer names the person: the first name, or the username without one.
	Who    string
	Status string // in words
	// Blocking are the problems that stop sign-in ("No — 2 problems"); Notes the others.
	Blocking, Notes []problemView
	Details         []detail
	Form            *userForm
	// Sessions are where the user is signed in now, with the applications of each.
	Sessions []sessionRow
	// Training is the user's trainings and the form to record one (nil: the site has none).
	Training *trainingView
}

type problemView struct {
	Code, Label, Message, Since, Advice string
	Blocking                            bool
	// Fix is the action of the button that fixes the problem ("" for none); FixLabel its words.
	Fix, FixLabel string
	// Link is a page or field where the fix is done instead (the agency's license, the e-mail
	// field below).
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
	dv := &userDetailView{D: d, Path: userPath(site, u.Username), Who: u.FirstName, Status: statusLabel(u)}
	if dv.Who == "" {
		dv.Who = u.Username
	}
	for _, p := range d.Problems {
		pv := s.problemView(a, d, p)
		if p.Blocking {
			dv.Blocking = append(dv.Blocking, pv)
		} else {
			dv.Notes = append(dv.Notes, pv)
		}
	}
	agency := "None"
	if d.Agency != nil {
		agency = d.Agency.Name
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
		agreement = "Signed " + siteDate(u.AgreementSignedOn)
		if !u.AgreementExpiresOn.IsZero() {
			agreement += ", expires " + siteDate(u.AgreementExpiresOn)
		}
	}
	dv.Details = []detail{{"Username", u.Username}, {"Name", u.FullName()}, {"Agency", agency}, {"Role", role},
		{"E-mail", email}, {"Phone", phone}, {"Status", dv.Status},
		{"Failed sign-in attempts", fmt.Sprint(u.FailedAttempts)},
		{"Last sign-in", siteTimeOr(site, u.LastLoginAt, "Never")},
		{"Password last set", siteTimeOr(site, u.PasswordChangedAt, "Never")},
		{"Account created", siteTimeOr(site, u.CreatedAt, "Unknown")}, {"User agreement", agreement},
		{"2-step verification", mfaDetail(d)}}
	if u.Disabled {
		dv.Details = append(dv.Details, detail{"Disabled", departureDetail(site, u, d.Departure)})
	}

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
	dv.Training = trainingSection(site, d, s.clock.Now())
	return dv, nil
}

// problemView words one of the login doctor's problems for the console, with the button or
// link that fixes it where the console can.
func (s *Server) problemView(a *auth.Admin, d *auth.Diagnosis, p hmisauth.Problem) problemView {
	site, u := a.Site(), d.User
	pv := problemView{Code: p.Code, Label: problemLabels[p.Code], Message: p.Message, Since: siteTime(site, p.Since),
		Blocking: p.Blocking, Advice: p.Fix}
	if pv.Label == "" {
		pv.Label = p.Code
	}
	if adv, ok := adviceByCode[p.Code]; ok {
		pv.Advice = adv
	}
	switch p.Code {
	case hmisauth.ProblemDisabled:
		pv.Fix, pv.FixLabel = "enable", "Enable the account"
	case hmisauth.ProblemLocked:
		pv.Fix, pv.FixLabel = "unlock", "Unlock the account"
		// The doctor's own words carry its dates in another format; the console has one.
		pv.Message = fmt.Sprintf("Locked after %d failed sign-in attempts; the last at %s.", u.FailedAttempts,
			siteTime(site, u.LastFailedAt))
		if after := site.Policy.Lockout.AutoUnlockAfter; after > 0 {
			pv.Message += " It unlocks by itself at " + siteTime(site, u.LockedAt.Add(after)) + "."
		}
	case hmisauth.ProblemInactive, hmisauth.ProblemTemporaryPasswordUsed, hmisauth.ProblemTemporaryPasswordExpired,
		hmisauth.ProblemPasswordExpired:
		pv.Fix, pv.FixLabel = "temporary-password", "Issue a temporary password"
	case hmisauth.ProblemNoEmail:
		pv.Link, pv.LinkLabel = "#email", "Add an e-mail address"
	case hmisauth.ProblemTrainingMissing, hmisauth.ProblemTrainingExpired:
		pv.Advice = "Record the completed training on this page, under Training, once they have taken it."
		pv.Link, pv.LinkLabel = "#training_kind", "Record a completed training"
	case hmisauth.ProblemAgreementExpired:
		pv.Message = "The signed user agreement expired on " + siteDate(u.AgreementExpiresOn) + "."
		pv.Link, pv.LinkLabel = "#signed_on", "Record a new user agreement"
	case hmisauth.ProblemLicenseExpired:
		if d.Agency != nil {
			pv.Message = "The license of " + d.Agency.Name + " expired on " + siteDate(d.Agency.LicenseExpires) + "."
		}
		if a.IsSysadmin() && d.Agency != nil {
			pv.Advice = "Renew the agency's license: enter its new expiry date on the agency's page."
			pv.Link, pv.LinkLabel = adminPath(site, fmt.Sprintf("agencies/%d", d.Agency.ID)), "Renew the license of "+d.Agency.Name
		} else {
			pv.Advice = "Ask your system administrator to renew your agency's license."
		}
	}
	return pv
}

// siteTimeOr is siteTime, or instead when t is the zero time.
func siteTimeOr(site *hmisauth.Site, t time.Time, instead string) string {
	if t.IsZero() {
		return instead
	}
	return siteTime(site, t)
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
	// The page's temporary-password forms act once (formtoken.go).
	if v.FormToken, err = s.userPageFormToken(r, a, d.User.Username); err != nil {
		return nil, err
	}
	return v, nil
}

// openUserPage opens the page of the user named in the address for the signed-in
// administrator (form: for a form's submission, see consoleAdminForm). When it cannot, it has
// answered and v is nil.
func (s *Server) openUserPage(w http.ResponseWriter, r *http.Request, form bool) (a *auth.Admin, v *consoleView) {
	if form {
		a = s.consoleAdminForm(w, r)
	} else {
		a = s.consoleAdmin(w, r)
	}
	if a == nil {
		return nil, nil
	}
	v, err := s.userPageView(r, a, r.PathValue("username"))
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return nil, nil
	}
	return a, v
}

// consoleUser is a user's page: the login doctor on top, then details, actions and editing.
func (s *Server) consoleUser(w http.ResponseWriter, r *http.Request) {
	_, v := s.openUserPage(w, r, false)
	if v == nil {
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_user", v)
}

// consoleUserSave saves the edit form. Fields the form did not send stay as they are.
func (s *Server) consoleUserSave(w http.ResponseWriter, r *http.Request) {
	a, v := s.openUserPage(w, r, true)
	if v == nil {
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
