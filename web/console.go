package web

import (
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
	// Officer is set for an agency's security officer, who reads their agency's audit log.
	Officer bool
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
	Confirm    *confirmView
	// Departure is the disable page's form: why, and the day the agency reported it.
	Departure *departureForm
	Refusal   *refusalView
	// ReviewNag reminds that the access log is due a review (console_review.go).
	ReviewNag *reviewNag
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
// import, clients, audit; "" for none) marked. Applications are a sysadmin's only, the audit
// log a sysadmin's and a security officer's.
func (v *consoleView) Nav(current string) []navItem {
	type page struct{ key, path, label string }
	pages := []page{{"users", "users", "Users"}, {"new", "users/new", "Create a user"},
		{"agencies", "agencies", "Agencies"}, {"import", "import", "Import users"}, {"reports", "reports", "Reports"}}
	if v.Sysadmin && v.apps {
		pages = append(pages, page{"clients", "clients", "Applications"})
	}
	if v.Sysadmin || v.Officer {
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
	"officer_set":        "They are now their agency's security officer: they can read its audit log and record its reviews.",
	"officer_unset":      "They are no longer their agency's security officer.",
	"training_recorded":  "The training was recorded.",
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
		s.consoleErrorAs(w, r, p.Site, p, err)
		return nil
	}
	return a
}

// consoleView starts a console page's view.
func (s *Server) consoleView(r *http.Request, a *auth.Admin) *consoleView {
	v := &consoleView{view: s.newView(r, a.Site()), Sysadmin: a.IsSysadmin(), Officer: a.IsSecurityOfficer(), apps: s.opt.OIDC != nil}
	v.Principal, v.Wide = a.Principal(), true
	v.Done = consoleDone[r.URL.Query().Get("done")]
	return v
}

// consoleRender renders a console page like render.
func (s *Server) consoleRender(w http.ResponseWriter, r *http.Request, status int, name string, v *consoleView) {
	s.renderData(w, r, status, name, v.view, v)
}

// refusalView is what the console's refusal and error pages need to send people on: who is
// refused, and which list the address was about.
type refusalView struct {
	// Admin is set when the reader is an administrator: the page has the console's navigation
	// and never tells them to contact the helpdesk, which they are.
	Admin bool
	// NotAdmin is set for a case worker (role user) who opened the console.
	NotAdmin bool
	// List is the console list the address belongs to: "users", "agencies" or "clients".
	List string
	Link string // that list's address
}

// consoleError answers an error that has no form to go on, for the signed-in person of the
// request (looked up again: the callers hold only their Admin's site).
func (s *Server) consoleError(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, err error) {
	var p *auth.Principal
	if code := hmisauth.ErrorCode(err); code != hmisauth.EUnauthorized && code != hmisauth.ESessionExpired {
		if token := s.cookieToken(r, site); token != "" {
			p, _ = s.svc.Authenticate(r.Context(), site.Key, token)
		}
	}
	s.consoleErrorAs(w, r, site, p, err)
}

// consoleErrorAs answers err for p: a refusal gets the console's own 403 page, which says
// plainly that this person cannot do that and where to go instead; an ended session goes back
// to sign in; anything else (a user or agency that does not exist, a fault) the console's error
// page, which offers the list the address was about rather than the sign-in page.
func (s *Server) consoleErrorAs(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, p *auth.Principal, err error) {
	code := hmisauth.ErrorCode(err)
	if code == hmisauth.EUnauthorized || code == hmisauth.ESessionExpired {
		s.signedOut(w, r, site, err)
		return
	}
	if p == nil {
		// Nobody known to word it for (the session could not be read again): the plain page.
		s.errorPage(w, r, site, err)
		return
	}
	status, e := s.status(r, err)
	v := &consoleView{view: s.newView(r, site), apps: s.opt.OIDC != nil}
	v.Principal = p
	ref := &refusalView{NotAdmin: !p.User.Role.IsAdmin()}
	if a, aerr := s.svc.Admin(p); aerr == nil {
		ref.Admin, v.Sysadmin, v.Officer, v.Wide = true, a.IsSysadmin(), a.IsSecurityOfficer(), true
	}
	ref.List, ref.Link = consoleListOf(site, r.URL.Path)
	v.Refusal = ref
	v.Status, v.Message = status, internalMessage
	if e != nil {
		v.Message = e.Message
	}
	setErrorHeaders(w, e)
	page := "admin_error"
	if code == hmisauth.EFORBIDDEN {
		page = "admin_forbidden"
	}
	s.consoleRender(w, r, status, page, v)
}

// consoleListOf is the console list an address belongs to, and its address: a missing agency
// or application is looked for again in its own list, everything else among the users.
func consoleListOf(site *hmisauth.Site, path string) (string, string) {
	for _, list := range []string{"agencies", "clients"} {
		if base := adminPath(site, list); path == base || strings.HasPrefix(path, base+"/") {
			return list, base
		}
	}
	return "users", adminPath(site, "users")
}

// consoleFormError shows a refused console form again with the error in the summary and next
// to its field.
func (s *Server) consoleFormError(w http.ResponseWriter, r *http.Request, page string, v *consoleView, err error) {
	switch hmisauth.ErrorCode(err) {
	case hmisauth.EINTERNAL, hmisauth.EFORBIDDEN, hmisauth.EUnauthorized, hmisauth.ESessionExpired:
		s.consoleErrorAs(w, r, v.Site, v.Principal, err)
		return
	}
	status, e := s.status(r, err)
	v.setError(e)
	setErrorHeaders(w, e)
	s.consoleRender(w, r, status, page, v)
}

// AdminSignedIn reports whether the page is shown to a signed-in administrator: they are the
// helpdesk, so the page must not send them to it.
func (v *view) AdminSignedIn() bool {
	return v.Principal != nil && v.Principal.User != nil && v.Principal.User.Role.IsAdmin()
}

// SysadminSignedIn reports whether the page is shown to a signed-in system administrator.
func (v *view) SysadminSignedIn() bool {
	return v.AdminSignedIn() && v.Principal.User.Role == hmisauth.RoleSysadmin
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

// consoleTimeLayout and consoleDateLayout are the console's one way of writing a moment and a
// day, on every page: "Mar 2, 2026, 9:00 AM CST" in the site's timezone, and "Mar 2, 2026".
const (
	consoleTimeLayout = "Jan 2, 2006, 3:04 PM MST"
	consoleDateLayout = "Jan 2, 2006"
)

// siteTime writes t in the site's timezone, or "" for the zero time.
func siteTime(site *hmisauth.Site, t time.Time) string {
	return siteTimeIn(site, t, consoleTimeLayout)
}

// siteDate writes a calendar date the console's way, or "" for the zero date.
func siteDate(d hmisauth.Date) string {
	t, err := time.Parse(hmisauth.DateLayout, string(d))
	if err != nil {
		return string(d)
	}
	return t.Format(consoleDateLayout)
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
