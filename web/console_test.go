package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// signInBrowser signs a browser in through the sign-in form of the live site.
func (w *adminWorld) signInBrowser(username string) *browser {
	w.t.Helper()
	b := w.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
	return b
}

var (
	tempPasswordRe = regexp.MustCompile(`id="temp-password"[^>]*>(.*?)</code>`)
	tagRe          = regexp.MustCompile(`<[^>]*>`)
)

// tempPassword reads the temporary password off its one-time page: the text of the element,
// whose groups are marked up to show apart.
func tempPassword(t *testing.T, r *response) string {
	t.Helper()
	m := tempPasswordRe.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s: no temporary password shown (status %d)", r.URL.Path, r.Status)
	}
	return html.UnescapeString(tagRe.ReplaceAllString(string(m[1]), ""))
}

func TestConsoleHelpsALockedUserBackIn(t *testing.T) {
	w := newAdminWorld(t)
	locked := w.makeUser("live", "Lena", "Locked", "lena@agency.example.org", "user", northName).User.Username
	w.lockOut("live", locked)
	b := w.signInBrowser(w.sysName)

	list := b.get("/live/admin/users?status=locked")
	if list.Status != http.StatusOK {
		t.Fatalf("list: status %d", list.Status)
	}
	list.wantText(`href="/live/admin/users/`+locked+`"`, "Lena Locked", `<strong class="expired">No</strong>`,
		`<td data-label="Problems" class="problems-cell">Locked; Terms not accepted yet</td>`).
		lackText(">pplain<", ">"+w.northAdminName+"<")

	page := "/live/admin/users/" + locked
	b.get(page).wantText("Blocks sign-in", "Locked after 3 failed sign-in attempts", "Since ",
		`action="`+page+`/unlock"`, "CST")

	r := b.post(page+"/unlock", nil).wantPath(page).wantText("The account was unlocked.")
	r.lackText(`data-code="locked"`)

	r = b.send(page, page+"/temporary-password", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("temporary password: status %d: %s", r.Status, r.Body)
	}
	temp := tempPassword(t, r)
	r.wantText("shown only this once", "Your temporary password for HMIS Live is "+temp+"; it works once, within 72 hours; sign in at "+
		w.srv.URL+"/live/login")
	b.get(page).lackText(temp)

	w.login("live", locked, temp) // the user signs in with it through the API
}

func TestConsoleAgencyAdminSeesOnlyTheirAgency(t *testing.T) {
	w := newAdminWorld(t)
	north := w.makeUser("live", "Nick", "North", "", "user", northName).User.Username
	south := w.makeUser("live", "Sue", "South", "", "user", southName).User.Username
	b := w.signInBrowser(w.northAdminName)

	list := b.get("/live/admin/users")
	if list.Status != http.StatusOK {
		t.Fatalf("list: status %d", list.Status)
	}
	list.wantText(">"+north+"<").lackText(">"+south+"<", ">"+w.sysName+"<", "Sue South")
	b.get("/live/admin/users?q=south").lackText(">" + south + "<")
	b.get("/live/admin/users/" + north).wantText("Nick North")

	for _, r := range []*response{b.get("/live/admin/users/" + south), b.post("/live/admin/users/"+south+"/unlock", nil),
		b.post("/live/admin/users/"+south+"/temporary-password", nil), b.get("/live/admin/users/" + w.sysName),
		b.get("/live/admin/agencies/" + itoa(w.south.ID))} {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", r.URL.Path, r.Status)
		}
		r.wantText("You cannot do that").lackText("Sue South")
	}
	b.get("/live/admin/agencies").wantText(northName).lackText(southName)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestConsoleRefusesPlainUsers(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser("pplain")
	for _, path := range []string{"/live/admin/users", "/live/admin/users/new", "/live/admin/agencies",
		"/live/admin/users/" + w.sysName} {
		r := b.get(path)
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", path, r.Status)
		}
		r.wantText("The helpdesk console is for administrators", `href="/live/account"`)
	}
	// Signed out: sent to sign in.
	w.browser().get("/live/admin/users").wantPath("/live/login")
}

func TestConsoleRefusesCrossSitePosts(t *testing.T) {
	w := newAdminWorld(t)
	locked := w.makeUser("live", "Lena", "Locked", "", "user", northName).User.Username
	w.lockOut("live", locked)
	b := w.signInBrowser(w.sysName)
	req, err := http.NewRequest("POST", w.srv.URL+"/live/admin/users/"+locked+"/unlock", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := w.do(b.c, req); r.Status != http.StatusForbidden {
		t.Fatalf("cross-site unlock: status %d, want 403", r.Status)
	}
	d, err := w.svc.Diagnose(context.Background(), "live", locked)
	if err != nil || !d.User.Locked() {
		t.Fatalf("cross-site post unlocked the account (%v)", err)
	}
}

func TestConsoleCreatesUsersWithAPreviewedUsername(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "John", "Doe", "", "user", northName) // jdoe is taken
	b := w.signInBrowser(w.sysName)
	b.get("/live/admin/users/new").wantText(`<label for="first">`, "Show the username")

	form := url.Values{"first": {"Jane"}, "last": {"Doe"}, "email": {"jane@agency.example.org"}, "agency": {northName},
		"role": {"user"}, "step": {"preview"}}
	r := b.post("/live/admin/users/new", form)
	r.wantText(`name="username" type="text" value="jdoe2"`, "Create the account")

	form.Set("step", "create")
	form.Set("username", "jdoe2")
	form.Set("generated", "jdoe2")
	r = b.post("/live/admin/users/new", withToken(r, "/live/admin/users/new", form))
	if r.Status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.Status, r.Body)
	}
	temp := tempPassword(t, r)
	r.wantText("The account jdoe2 was created.")
	w.login("live", "jdoe2", temp)

	// An edited username is kept; a missing name is refused with the field named.
	form.Set("username", "jane.d")
	form.Set("first", "Janet")
	if r := b.send("/live/admin/users/new", "/live/admin/users/new", form); r.Status != http.StatusCreated {
		t.Fatalf("create edited: %d %s", r.Status, r.Body)
	}
	b.get("/live/admin/users/jane.d").wantText("Janet Doe")
	form.Set("last", "")
	form.Set("step", "preview")
	b.post("/live/admin/users/new", form).wantText(`<a href="#last">`, `aria-invalid="true"`)
}

func TestConsoleDisableAsksFirstThenEnables(t *testing.T) {
	w := newAdminWorld(t)
	name := w.makeUser("live", "Dana", "Gone", "", "user", northName).User.Username
	b := w.signInBrowser(w.sysName)
	page := "/live/admin/users/" + name
	b.get(page+"/disable").wantText("Disable the account of Dana Gone", "Yes, disable the account",
		`type="radio" name="reason" value="left_agency" id="reason"`, `value="2026-03-02" max="2026-03-02"`)
	// No reason: the page again, with the error summary pointing at the choice, and nothing done.
	if r := b.post(page+"/disable", url.Values{"reported_on": {"2026-03-01"}}); r.Status != 400 {
		t.Errorf("no reason answered %d, want 400", r.Status)
	} else {
		r.wantText("There is a problem", `<a href="#reason">Choose why the account is being disabled`, `value="2026-03-01"`)
	}
	if r := b.post(page+"/disable", url.Values{"reason": {"violation"}, "reported_on": {"2026-03-03"}}); r.Status != 400 {
		t.Errorf("a future report day answered %d, want 400", r.Status)
	} else {
		r.wantText(`<a href="#reported_on">The day the agency reported it cannot be after today`, `value="violation" id="reason-violation" checked`)
	}
	if d, _ := w.svc.Diagnose(setupCtx(), "live", name); d.User.Disabled {
		t.Fatal("a refused disable disabled the account")
	}
	b.post(page+"/disable", url.Values{"reason": {"left_agency"}, "reported_on": {"03/01/2026"}}).wantPath(page).
		wantText("The account was disabled.", `data-code="disabled"`, `action="`+page+`/enable"`,
			"by "+w.sysName+". Reason: Left the agency. Reported by the agency on")
	b.post(page+"/enable", nil).wantPath(page).wantText("The account was enabled.").lackText(`data-code="disabled"`)
	b.post(page+"/expire-password", nil).wantText("The password was expired.")
	b.post(page+"/end-sessions", nil).wantText("All the user&#39;s sessions were ended.")

	// Editing: a bad e-mail is shown on its field; a good change is saved.
	r := b.post(page, url.Values{"first": {"Dana"}, "last": {"Gone"}, "email": {"not-an-address"}, "phone": {""},
		"agency": {northName}, "role": {"user"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("bad e-mail: status %d", r.Status)
	}
	r.wantText(`<a href="#email">`, `id="email-error"`)
	b.post(page, url.Values{"first": {"Dana"}, "last": {"Here"}, "email": {"dana@agency.example.org"},
		"agency": {southName}, "role": {"agency_admin"}}).wantText("The changes were saved.", "Dana Here", southName)
}

func TestConsoleAgencies(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	b.get("/live/admin/agencies").wantText(northName, southName, "Add an agency")
	r := b.post("/live/admin/agencies", url.Values{"name": {"East House"}, "seats": {"many"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("bad seats: status %d", r.Status)
	}
	r.wantText(`<a href="#seats">`)
	b.send("/live/admin/agencies", "/live/admin/agencies", url.Values{"name": {"East House"}, "seats": {"2"}, "license_expires": {"2026-01-31"}}).
		wantPath("/live/admin/agencies").wantText("The agency was added.", "East House", "0 of 2 used", "expired")
	ags, err := w.svc.Agencies(context.Background(), "live")
	if err != nil {
		t.Fatal(err)
	}
	var east *hmisauth.Agency
	for _, ag := range ags {
		if ag.Name == "East House" {
			east = ag
		}
	}
	if east == nil {
		t.Fatal("East House not saved")
	}
	edit := "/live/admin/agencies/" + itoa(east.ID)
	b.get(edit).wantText("Change East House", `value="2026-01-31"`)
	b.post(edit, url.Values{"name": {"East House"}, "seats": {"5"}, "license_expires": {"2027-01-31"}}).
		wantText("The agency was saved.", "0 of 5 used", "2027-01-31")
}

func TestConsoleLabelsPointAtInputs(t *testing.T) {
	w := newAdminWorld(t)
	name := w.makeUser("live", "Lena", "Label", "", "user", northName).User.Username
	b := w.signInBrowser(w.sysName)
	for _, r := range []*response{b.get("/live/admin/users"), b.get("/live/admin/users/" + name),
		b.get("/live/admin/users/new"), b.post("/live/admin/users/new", url.Values{"first": {"A"}, "last": {"Bee"}}),
		b.get("/live/admin/agencies"), b.get("/live/admin/agencies/" + itoa(w.north.ID))} {
		if r.Status >= 400 {
			t.Errorf("%s: status %d", r.URL.Path, r.Status)
		}
		page := r.text()
		for _, part := range strings.Split(page, `<label for="`)[1:] {
			id := part[:strings.IndexByte(part, '"')]
			if !strings.Contains(page, `id="`+id+`"`) {
				t.Errorf("%s: label for %q has no input", r.URL.Path, id)
			}
		}
		if strings.Contains(page, "style=") {
			t.Errorf("%s: inline style", r.URL.Path)
		}
	}
}

func TestAccountPageLinksAdministratorsToTheHelpdesk(t *testing.T) {
	e := newEnv(t)
	admin := e.activeUser("live", "Sys", "Admin", goodPassword)
	sysadmin := string(hmisauth.RoleSysadmin)
	if _, err := e.svc.UpdateUser(context.Background(), "live", admin, auth.ProfileChange{Role: &sysadmin}); err != nil {
		t.Fatal(err)
	}
	user := e.activeUser("live", "Plain", "User", goodPassword)
	for _, tc := range []struct {
		username string
		want     bool
	}{{admin, true}, {user, false}} {
		b := e.browser()
		b.post("/live/login", url.Values{"username": {tc.username}, "password": {goodPassword}}).wantPath("/live/account")
		if got := strings.Contains(b.get("/live/account").text(), `href="/live/admin/users"`); got != tc.want {
			t.Errorf("%s: helpdesk link shown = %v", tc.username, got)
		}
	}
}
