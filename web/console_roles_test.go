package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth/oidc"
)

// consoleRoute is one console page or form and what each kind of administrator gets from it.
// Plain users, signed-out browsers and another site's session are refused on every route.
type consoleRoute struct {
	name, method string
	path         string     // {u}: a user of North; {id}: North's agency ID; {c}: an application's client ID
	form         url.Values // a POST's fields
	file         string     // a POST's uploaded file (multipart)
	sys          bool       // the sysadmin may
	own          bool       // North's agency admin may
	other        bool       // South's agency admin may (and then must not see North's user)
	// tokenPage is the page a one-time form (web/formtoken.go) is sent from: its token goes
	// with the form when the caller's page has the form.
	tokenPage string
}

func (rt consoleRoute) send(b *browser, path string, placeholders *strings.Replacer) *response {
	switch {
	case rt.method == "GET":
		return b.get(path)
	case rt.file != "":
		return b.postMultipart(path, map[string]string{"step": "preview"}, rt.file)
	case rt.tokenPage != "":
		form := url.Values{}
		for k, v := range rt.form {
			form[k] = v
		}
		if token, _ := b.get(placeholders.Replace(rt.tokenPage)).findFormToken(path); token != "" {
			form.Set("form_token", token)
		}
		return b.post(path, form)
	}
	return b.post(path, rt.form)
}

// consoleRoutes lists every page and form of the console (server.go's /{site}/admin routes).
func consoleRoutes() []consoleRoute {
	agreement := url.Values{"signed_on": {"2026-03-01"}, "supervisor_signed_on": {"2026-03-01"}, "director_signed_on": {"2026-03-02"}}
	page := func(name, path string, sys, own, other bool) consoleRoute {
		return consoleRoute{name: name, method: "GET", path: path, sys: sys, own: own, other: other}
	}
	form := func(name, path string, f url.Values, sys, own, other bool) consoleRoute {
		return consoleRoute{name: name, method: "POST", path: path, form: f, sys: sys, own: own, other: other}
	}
	once := func(name, page, path string, f url.Values, sys, own, other bool) consoleRoute {
		rt := form(name, path, f, sys, own, other)
		rt.tokenPage = page
		return rt
	}
	upload := consoleRoute{name: "import preview", method: "POST", path: "/live/admin/import", file: "first,last\nIda,Import\n",
		sys: true, own: true, other: true}
	return []consoleRoute{
		page("home", "/live/admin/", true, true, true),
		page("user list", "/live/admin/users", true, true, true),
		page("user search", "/live/admin/users?q=target", true, true, true),
		page("user list by agency", "/live/admin/users?agency="+url.QueryEscape(northName), true, true, false),
		page("create form", "/live/admin/users/new", true, true, true),
		form("create preview", "/live/admin/users/new", url.Values{"first": {"Nia"}, "last": {"New"}}, true, true, true),
		once("create", "/live/admin/users/new", "/live/admin/users/new", url.Values{"step": {"create"}, "first": {"Nia"}, "last": {"New"}}, true, true, true),
		page("user page", "/live/admin/users/{u}", true, true, false),
		form("edit user", "/live/admin/users/{u}", url.Values{"phone": {"555-0111"}}, true, true, false),
		form("unlock", "/live/admin/users/{u}/unlock", nil, true, true, false),
		form("temporary password", "/live/admin/users/{u}/temporary-password", nil, true, true, false),
		page("disable question", "/live/admin/users/{u}/disable", true, true, false),
		form("disable", "/live/admin/users/{u}/disable", url.Values{"reason": {"left_agency"}}, true, true, false),
		form("enable", "/live/admin/users/{u}/enable", nil, true, true, false),
		page("expire password question", "/live/admin/users/{u}/expire-password", true, true, false),
		form("expire password", "/live/admin/users/{u}/expire-password", nil, true, true, false),
		page("end sessions question", "/live/admin/users/{u}/end-sessions", true, true, false),
		form("end sessions", "/live/admin/users/{u}/end-sessions", nil, true, true, false),
		page("reset 2-step verification question", "/live/admin/users/{u}/reset-mfa", true, true, false),
		form("reset 2-step verification", "/live/admin/users/{u}/reset-mfa", nil, true, true, false),
		form("agreement", "/live/admin/users/{u}/agreement", agreement, true, true, false),
		form("training", "/live/admin/users/{u}/training", url.Values{"training_kind": {"new_user"}, "training_completed_on": {"2026-03-01"}}, true, true, false),
		page("agencies", "/live/admin/agencies", true, true, true),
		once("create agency", "/live/admin/agencies", "/live/admin/agencies", url.Values{"name": {"East Clinic"}, "seats": {"5"}}, true, false, false),
		page("agency page", "/live/admin/agencies/{id}", true, false, false),
		form("edit agency", "/live/admin/agencies/{id}", url.Values{"name": {northName}, "seats": {"40"}}, true, false, false),
		page("reports", "/live/admin/reports", true, true, true),
		page("report", "/live/admin/reports?kind=no-email", true, true, true),
		page("report download", "/live/admin/reports/download?kind=no-email", true, true, true),
		page("monitoring pack", "/live/admin/reports/pack?from=2026-01-01&to=2026-02-28", true, false, false),
		page("import form", "/live/admin/import", true, true, true),
		upload,
		page("audit log", "/live/admin/audit", true, false, false),
		page("audit download", "/live/admin/audit/download?format=csv", true, false, false),
		once("record review", "/live/admin/audit", "/live/admin/audit/reviews",
			url.Values{"review_from": {"2020-01-01"}, "review_to": {"2020-01-31"}, "findings": {"None"}}, true, false, false),
		form("security officer", "/live/admin/users/{u}/security-officer", url.Values{"officer": {"no"}}, true, false, false),
		page("applications", "/live/admin/clients", true, false, false),
		once("add application", "/live/admin/clients", "/live/admin/clients", url.Values{"name": {"East HMIS"}, "redirect_uri": {"https://east.example.org/cb"}}, true, false, false),
		page("application page", "/live/admin/clients/{c}", true, false, false),
		form("edit application", "/live/admin/clients/{c}", url.Values{"name": {"Renamed"}, "redirect_uri": {"https://app.example.org/cb"}}, true, false, false),
		once("new secret", "/live/admin/clients/{c}", "/live/admin/clients/{c}/rotate-secret", nil, true, false, false),
		page("secret page", "/live/admin/clients/{c}/secret", true, false, false),
		form("stop the old secret", "/live/admin/clients/{c}/finish-rotation", nil, true, false, false),
		page("remove question", "/live/admin/clients/{c}/remove", true, false, false),
		form("remove application", "/live/admin/clients/{c}/remove", nil, true, false, false),
	}
}

// TestConsoleRoutesKeepEveryoneInTheirPlace runs every console page and form as each kind of
// caller. A refusal is a 403 page (or, without a session of this site, the sign-in page) that
// changes nothing — no audit event — and names nobody; an agency admin allowed on a shared page
// sees nothing of another agency.
func TestConsoleRoutesKeepEveryoneInTheirPlace(t *testing.T) {
	w := newAdminWorld(t)
	w.trainingKinds() // for the training form (training_test.go)
	// No e-mail, so the no-email report would list her to anyone who could see her.
	target := w.makeUser("live", "Tess", "Target", "", "user", northName).User.Username
	const targetName = "Tess Target"
	app, _, err := w.oidc.AddClient(setupCtx(), "live", oidc.ClientSpec{Name: "App", RedirectURIs: []string{"https://app.example.org/cb"}})
	if err != nil {
		t.Fatal(err)
	}

	signedOut := w.browser()
	otherSite := w.browser() // the training sysadmin's session, offered to the live site
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(w.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "hmisauth_live", Value: w.training, Path: "/"}})
	otherSite.c.Jar = jar
	plain := w.signInBrowser("pplain")
	south := w.signInBrowser(w.southAdminName)
	north := w.signInBrowser(w.northAdminName)
	sys := w.signInBrowser(w.sysName)

	for _, rt := range consoleRoutes() {
		placeholders := strings.NewReplacer("{u}", target, "{id}", itoa(w.north.ID), "{c}", app.ID)
		path := placeholders.Replace(rt.path)
		t.Run(rt.name, func(t *testing.T) {
			parent := w.t
			w.t = t
			defer func() { w.t = parent }()
			refused := func(who string, b *browser, wantPath string) {
				t.Helper()
				before := w.newestEventID()
				r := rt.send(b, path, placeholders)
				if wantPath != "" {
					if r.URL.Path != wantPath {
						t.Errorf("%s: ended at %s (status %d), want %s", who, r.URL, r.Status, wantPath)
					}
				} else {
					if r.Status != http.StatusForbidden {
						t.Errorf("%s: status %d at %s, want 403", who, r.Status, r.URL)
					}
					if b == plain {
						// A case worker is told what the console is, and sent to their account.
						r.wantText("The helpdesk console is for administrators", `href="/live/account"`)
					} else {
						r.wantText("You cannot do that")
					}
				}
				r.lackText(targetName, ">"+target+"<")
				if after := w.newestEventID(); after != before {
					t.Errorf("%s: a refused request wrote audit events %d..%d", who, before+1, after)
				}
			}
			allowed := func(who string, b *browser) *response {
				t.Helper()
				r := rt.send(b, path, placeholders)
				if r.Status != http.StatusOK && r.Status != http.StatusCreated || !strings.HasPrefix(r.URL.Path, "/live/admin/") {
					t.Errorf("%s: status %d at %s, want a console page: %.300s", who, r.Status, r.URL, r.Body)
				}
				return r
			}
			refused("signed out", signedOut, "/live/login")
			refused("training sysadmin", otherSite, "/live/login")
			refused("plain user", plain, "")
			if rt.other {
				allowed("other agency's admin", south).lackText(targetName, ">"+target+"<", northName)
			} else {
				refused("other agency's admin", south, "")
			}
			if rt.own {
				allowed("own agency's admin", north)
			} else {
				refused("own agency's admin", north, "")
			}
			if rt.sys {
				allowed("sysadmin", sys)
			}
		})
	}
}

// TestConsoleRoutesCoverEveryAdminPage keeps consoleRoutes in step with the server: every
// /{site}/admin route registered in server.go must be in the table above.
func TestConsoleRoutesCoverEveryAdminPage(t *testing.T) {
	covered := map[string]bool{}
	for _, rt := range consoleRoutes() {
		p, _, _ := strings.Cut(rt.path, "?")
		p = strings.NewReplacer("{u}", "{username}", "{c}", "{id}", "/live/", "/{site}/").Replace(p)
		if p == "/{site}/admin/" {
			p = "/{site}/admin/{$}"
		}
		covered[rt.method+" "+p] = true
	}
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	patterns := regexp.MustCompile(`site\.HandleFunc\("((?:GET|POST) /\{site\}/admin/[^"]*)"`).FindAllSubmatch(src, -1)
	if len(patterns) < 20 {
		t.Fatalf("found only %d admin routes in server.go: has the way routes are registered changed?", len(patterns))
	}
	for _, m := range patterns {
		if !covered[string(m[1])] {
			t.Errorf("console route %q is not in consoleRoutes", m[1])
		}
	}
}
