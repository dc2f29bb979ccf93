package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// answerRe reads the user page's plain answer.
var answerRe = regexp.MustCompile(`<h2 id="answer"[^>]*>([^<]+)</h2>`)

func answerOf(t *testing.T, r *response) string {
	t.Helper()
	m := answerRe.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s: no answer on the user page (status %d)", r.URL.Path, r.Status)
	}
	return string(m[1])
}

// detailOf reads one row of the user page's summary list.
func detailOf(t *testing.T, r *response, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<dt>` + regexp.QuoteMeta(name) + `</dt><dd>([^<]*)</dd>`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s: no %q in the details", r.URL.Path, name)
	}
	return string(m[1])
}

// consoleTimeRe is the console's one date-and-time format, "Mar 2, 2026, 9:00 AM CST".
var consoleTimeRe = regexp.MustCompile(`\b[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M C[SD]T\b`)

func TestUserPageAnswersCanTheySignIn(t *testing.T) {
	w := newAdminWorld(t)
	fine, _ := w.signedIn("live", "Olga", "Okay", "user", northName)
	one, _ := w.signedIn("live", "Lena", "Locked", "user", northName)
	two, _ := w.signedIn("live", "Dora", "Double", "user", northName)
	w.lockOut("live", one)
	w.lockOut("live", two)
	if _, err := w.svc.SetDisabled(setupCtx(), "live", two, true); err != nil {
		t.Fatal(err)
	}
	b := w.signInBrowser(w.sysName)

	r := b.get("/live/admin/users/" + fine)
	if got := answerOf(t, r); got != "Yes, Olga can sign in" {
		t.Errorf("no problems: answer %q", got)
	}
	r.lackText(`data-code=`)
	if got := detailOf(t, r, "Status"); got != "Active" {
		t.Errorf("status %q, want Active", got)
	}
	if got := detailOf(t, r, "Last sign-in"); !consoleTimeRe.MatchString(got) {
		t.Errorf("last sign-in %q is not in the console's date format", got)
	}

	r = b.get("/live/admin/users/" + one)
	if got := answerOf(t, r); got != "No — 1 problem" {
		t.Errorf("one problem: answer %q", got)
	}
	r.wantText("Lena cannot sign in until this is fixed.", `data-code="locked"`, `action="/live/admin/users/`+one+`/unlock"`,
		"Unlock the account")
	if got := detailOf(t, r, "Status"); got != "Locked" {
		t.Errorf("status %q, want Locked", got)
	}
	// The lock's own message and its "since" use the console's format, not the doctor's.
	for _, m := range regexp.MustCompile(`(?s)<li class="problem[^"]*" data-code="locked">.*?</li>`).FindAll(r.Body, -1) {
		if n := len(consoleTimeRe.FindAll(m, -1)); n != 2 {
			t.Errorf("locked problem has %d dates in the console's format, want 2: %s", n, m)
		}
	}

	r = b.get("/live/admin/users/" + two)
	if got := answerOf(t, r); got != "No — 2 problems" {
		t.Errorf("two problems: answer %q", got)
	}
	r.wantText("Dora cannot sign in until these are fixed.", `data-code="disabled"`, `data-code="locked"`,
		`action="/live/admin/users/`+two+`/enable"`)
	if got := detailOf(t, r, "Status"); got != "Disabled" {
		t.Errorf("status %q, want Disabled", got)
	}
	for _, raw := range []string{">locked<", ">disabled<", ">active<"} {
		r.lackText(raw)
	}

	// A problem that does not stop sign-in is a note under a "Yes".
	noEmail := w.makeUser("live", "Nina", "Nomail", "", "user", northName).User.Username
	r = b.get("/live/admin/users/" + noEmail)
	if got := answerOf(t, r); got != "Yes, Nina can sign in" {
		t.Errorf("only notes: answer %q", got)
	}
	r.wantText(`id="notes-heading"`, `data-code="no_email"`, `href="#email"`)

	// An agreement's dates are written the console's way too.
	b.post("/live/admin/users/"+fine+"/agreement", url.Values{"signed_on": {"2026-03-02"}, "expires_on": {"2027-03-01"}}).
		wantText("The user agreement was recorded.")
	if got := detailOf(t, b.get("/live/admin/users/"+fine), "User agreement"); got != "Signed Mar 2, 2026, expires Mar 1, 2027" {
		t.Errorf("agreement %q", got)
	}

	// The list words statuses and dates the same way.
	list := b.get("/live/admin/users")
	list.wantText(`<td data-label="Problems" class="problems-cell">Disabled; Locked</td>`, `data-label="Last sign-in"`)
	if !consoleTimeRe.Match(list.Body) {
		t.Error("the users list has no last sign-in in the console's date format")
	}
}

// TestConsoleDestructiveActionsAskFirst: disabling, ending sessions, forcing a password change
// and resetting 2-step verification are each reached from the user page through a GET
// confirmation page that changes nothing; only its POST acts.
func TestConsoleDestructiveActionsAskFirst(t *testing.T) {
	w := newAdminWorld(t)
	ub, name, _, _ := w.totpUser()
	ub.get("/live/account").wantPath("/live/account")
	b := w.signInBrowser(w.sysName)
	page := "/live/admin/users/" + name

	user := b.get(page)
	for _, action := range []string{"expire-password", "end-sessions", "reset-mfa", "disable"} {
		user.wantText(`<form method="get" action="` + page + `/` + action + `">`).
			lackText(`<form method="post" action="` + page + `/` + action + `"`)
	}
	// The destructive ones come after the others.
	if i, j := strings.Index(user.text(), `action="`+page+`/temporary-password"`), strings.Index(user.text(), `action="`+page+`/expire-password"`); i < 0 || j < i {
		t.Error("forcing a password change is not after issuing a temporary password")
	}

	unchanged := func(what string) {
		t.Helper()
		d, err := w.svc.Diagnose(context.Background(), "live", name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := w.store.SecondFactors(context.Background(), d.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.User.Disabled || d.User.MustChangePassword || !f.Enabled() {
			t.Fatalf("after %s: disabled %v, must change password %v, 2-step on %v", what, d.User.Disabled,
				d.User.MustChangePassword, f.Enabled())
		}
		ub.get("/live/account").wantPath("/live/account")
	}

	for _, tc := range []struct{ action, heading, yes string }{
		{"expire-password", "Force Rosa Park (" + name + ") to change their password?", "Yes, force a password change"},
		{"end-sessions", "End all sessions of Rosa Park (" + name + ")?", "Yes, end all sessions"},
		{"reset-mfa", "Reset 2-step verification for Rosa Park (" + name + ")?", "Yes, reset 2-step verification"},
		{"disable", "Disable the account of Rosa Park (" + name + ")?", "Yes, disable the account"},
	} {
		r := b.get(page + "/" + tc.action)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.action, r.Status)
		}
		r.wantText("<h1>"+tc.heading+"</h1>", `<form method="post" action="`+page+`/`+tc.action+`"`, tc.yes,
			`<a href="`+page+`">No, go back to `+name+`</a>`)
		unchanged("opening the " + tc.action + " confirmation")
	}

	// Confirmed, each acts.
	b.post(page+"/expire-password", nil).wantPath(page).wantText("The password was expired.")
	if d, _ := w.svc.Diagnose(context.Background(), "live", name); !d.User.MustChangePassword {
		t.Error("the password was not expired")
	}
	b.post(page+"/end-sessions", nil).wantPath(page).wantText("All the user&#39;s sessions were ended.")
	ub.get("/live/account").wantPath("/live/login")
	b.post(page+"/reset-mfa", nil).wantPath(page).wantText("2-step verification was reset")
	d, _ := w.svc.Diagnose(context.Background(), "live", name)
	if f, err := w.store.SecondFactors(context.Background(), d.User.ID); err != nil || f.Enabled() {
		t.Errorf("2-step verification still on (%v)", err)
	}
	b.post(page+"/disable", url.Values{"reason": {"other"}}).wantPath(page).wantText("The account was disabled.")
	if d, _ := w.svc.Diagnose(context.Background(), "live", name); !d.User.Disabled {
		t.Error("the account was not disabled")
	}
}

// consolePages are the console pages a sysadmin can open in the admin world, with one user.
func consolePages(w *adminWorld, username string) []string {
	u := "/live/admin/users/" + username
	return []string{"/live/admin/users", "/live/admin/users/new", u, u + "/disable", u + "/expire-password",
		u + "/end-sessions", u + "/reset-mfa", "/live/admin/agencies", "/live/admin/agencies/" + itoa(w.north.ID),
		"/live/admin/reports", "/live/admin/import", "/live/admin/audit",
		// The refusal pages are console pages too.
		"/live/admin/users/nobody-at-all", "/live/admin/agencies/987654"}
}

func TestEveryConsolePageOffersSignOut(t *testing.T) {
	w := newAdminWorld(t)
	name := w.makeUser("live", "Sid", "Signout", "sid@agency.example.org", "user", northName).User.Username
	b := w.signInBrowser(w.sysName)
	for _, path := range consolePages(w, name) {
		r := b.get(path)
		r.wantText(`<div class="signed-in" id="signed-in">`, "Signed in as <strong>Sam Sysop</strong>",
			`<form method="post" action="/live/logout"`, ">Sign out</button>")
		if s := strings.ToLower(r.text()); strings.Contains(s, "contact the helpdesk") || strings.Contains(s, "contact your hmis helpdesk") {
			t.Errorf("%s tells an administrator to contact the helpdesk", path)
		}
	}
	// The temporary password's page, the result of a POST.
	b.post("/live/admin/users/"+name+"/temporary-password", nil).wantText(`id="signed-in"`, `action="/live/logout"`)

	// Every signed-in account page has the way out too.
	plain := w.signInBrowser("pplain")
	for _, path := range []string{"/live/account", "/live/account/profile", "/live/account/security", "/live/account/sessions"} {
		r := plain.get(path).wantPath(path)
		r.wantText(`<form method="post" action="/live/logout" class="inline-form">`, ">Sign out</button>")
	}
	// Signing out from a console page works.
	b.post("/live/logout", nil)
	b.get("/live/admin/users").wantPath("/live/login")
}

func TestConsoleRefusalsSendPeopleOn(t *testing.T) {
	w := newAdminWorld(t)
	south := w.makeUser("live", "Sue", "South", "", "user", southName).User.Username
	noHelpdesk := func(r *response) {
		t.Helper()
		if s := strings.ToLower(r.text()); strings.Contains(s, "contact the helpdesk") || strings.Contains(s, "contact your hmis helpdesk") {
			t.Errorf("%s (%d) tells an administrator to contact the helpdesk", r.URL.Path, r.Status)
		}
		r.lackText(`href="/live/login"`)
	}

	// A case worker is told what the console is, and sent to their account.
	plain := w.signInBrowser("pplain")
	for _, path := range []string{"/live/admin/users", "/live/admin/users/" + south, "/live/admin/agencies"} {
		r := plain.get(path)
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", path, r.Status)
		}
		r.wantText("<h1>The helpdesk console is for administrators</h1>", `<a class="button-link" href="/live/account">Go to your account</a>`,
			`action="/live/logout"`).lackText(`href="/live/admin/users"`, "Sue South")
	}

	// An agency administrator reaching another agency's user: the list of their users.
	north := w.signInBrowser(w.northAdminName)
	for _, r := range []*response{north.get("/live/admin/users/" + south), north.get("/live/admin/users/nobody-at-all"),
		north.post("/live/admin/users/"+south+"/unlock", nil)} {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", r.URL.Path, r.Status)
		}
		r.wantText("You cannot do that", `<a href="/live/admin/users">Go to the users you manage</a>`, `id="signed-in"`).
			lackText("Sue South")
		noHelpdesk(r)
	}

	// A sysadmin reaching a user or agency that does not exist: the list to look in again.
	sys := w.signInBrowser(w.sysName)
	for _, tc := range []struct{ path, method, heading, link string }{
		{"/live/admin/users/nobody-at-all", "GET", "User not found", `<a href="/live/admin/users">Go to the list of users</a>`},
		{"/live/admin/users/nobody-at-all/end-sessions", "GET", "User not found", `<a href="/live/admin/users">Go to the list of users</a>`},
		{"/live/admin/users/nobody-at-all/unlock", "POST", "User not found", `<a href="/live/admin/users">Go to the list of users</a>`},
		{"/live/admin/agencies/987654", "GET", "Agency not found", `<a href="/live/admin/agencies">Go to the list of agencies</a>`},
	} {
		var r *response
		if tc.method == "POST" {
			r = sys.post(tc.path, nil)
		} else {
			r = sys.get(tc.path)
		}
		if r.Status != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", tc.method, tc.path, r.Status)
		}
		r.wantText("<h1>"+tc.heading+"</h1>", tc.link, `id="signed-in"`, `class="admin-nav"`)
		noHelpdesk(r)
	}
}

// TestConsoleFooterDoesNotSendAdminsToThemselves: the layout's footer offers the helpdesk to
// everyone but the helpdesk.
func TestConsoleFooterDoesNotSendAdminsToThemselves(t *testing.T) {
	w := newAdminWorld(t)
	if !strings.Contains(w.signInBrowser("pplain").get("/live/account").text(), "Need help? Contact the helpdesk") {
		t.Error("a case worker's account page lost the helpdesk's contact")
	}
	for _, who := range []string{w.sysName, w.northAdminName} {
		r := w.signInBrowser(who).get("/live/account")
		if strings.Contains(strings.ToLower(r.text()), "contact the helpdesk") {
			t.Errorf("%s's account page tells them to contact the helpdesk", who)
		}
	}
}
