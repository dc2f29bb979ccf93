package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// metaRefresh is a page that goes somewhere by itself (WCAG 2.2.1: it would throw away what
// someone was typing, unannounced).
var metaRefresh = regexp.MustCompile(`(?i)http-equiv\s*=\s*["']?refresh`)

// No signed-in page moves by itself: each says when the session times out, carries the
// instants the warning script needs, and has no refresh.
func TestNoSignedInPageRefreshesItself(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	adminName, _ := e.signedIn("live", "Sam", "Admin", "sysadmin", "")
	user, admin := e.browser(), e.browser()
	user.signIn("live", username, goodPassword).wantPath("/live/account")
	admin.signIn("live", adminName, goodPassword).wantPath("/live/account")
	pages := map[*browser][]string{
		user: {"/live/account", "/live/account/profile", "/live/account/security", "/live/account/sessions",
			"/live/terms", "/live/account/recovery"},
		admin: {"/live/account", "/live/admin/users", "/live/admin/users/new", "/live/admin/users/" + username,
			"/live/admin/agencies", "/live/admin/audit", "/live/admin/reports", "/live/admin/import", "/live/admin/clients"},
	}
	for b, paths := range pages {
		for _, path := range paths {
			r := b.get(path)
			if r.Status != http.StatusOK || r.URL.Path != path {
				t.Errorf("%s: status %d at %s", path, r.Status, r.URL.Path)
				continue
			}
			if metaRefresh.Match(r.Body) || r.Header.Get("Refresh") != "" {
				t.Errorf("%s refreshes itself", path)
			}
			r.wantText(`id="session-timeout"`, `data-idle-at="2026-03-02T15:30:00.000Z"`, `data-end-at="2026-03-03T03:00:00.000Z"`,
				`data-extend="/live/session/extend"`, `<dialog id="timeout-dialog"`, `src="/static/timeout.js?v=`,
				"if you do nothing for 30 minutes", "a session lasts at most 12 hours")
		}
	}
}

// A form sent after the session timed out says so on the sign-in page, rather than failing
// silently or asking to sign in as if nothing had happened.
func TestFormSentAfterTimeOutSaysTheSessionTimedOut(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	adminName, _ := e.signedIn("live", "Sam", "Admin", "sysadmin", "")
	user, admin := e.browser(), e.browser()
	user.signIn("live", username, goodPassword).wantPath("/live/account")
	admin.signIn("live", adminName, goodPassword).wantPath("/live/account")
	user.get("/live/account/profile").wantPath("/live/account/profile")
	e.clock.Advance(31 * time.Minute)

	user.post("/live/account/profile", url.Values{"email": {"rosa.new@agency.example.org"}, "current_password": {goodPassword}}).
		wantPath("/live/login").wantText("Your session timed out. Please sign in again.")
	admin.post("/live/admin/users/new", url.Values{"first": {"Ana"}, "last": {"Ruiz"}, "step": {"create"}}).
		wantPath("/live/login").wantText("Your session timed out. Please sign in again.")
	if u, err := e.store.User(t.Context(), "live", username); err != nil || u.Email == "rosa.new@agency.example.org" {
		t.Errorf("the timed-out form changed the e-mail address (%v)", err)
	}
}

// extended is the answer of POST /{site}/session/extend.
type extended struct {
	Now    string `json:"now"`
	IdleAt string `json:"idle_at"`
	EndAt  string `json:"end_at"`
	Idle   string `json:"idle"`
	End    string `json:"end"`
	Line   string `json:"line"`
}

// "Stay signed in" restarts the idle time at once (page loads record use at most once a
// minute), answers the new deadlines and words, and is refused when the session has ended or
// the request comes from another website.
func TestStaySignedInExtendsTheSession(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	e.clock.Advance(50 * time.Second)
	b.get("/live/account").wantText(`data-idle-at="2026-03-02T15:30:00.000Z"`) // a load 50 s in moves nothing

	r := b.post("/live/session/extend", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("extend: %d %s", r.Status, r.Body)
	}
	var got extended
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := extended{Now: "2026-03-02T15:00:50.000Z", IdleAt: "2026-03-02T15:30:50.000Z", EndAt: "2026-03-03T03:00:00.000Z",
		Idle: "9:30 AM CST", End: "9:00 PM CST",
		Line: "Signed in as " + username + ". This session times out at 9:30 AM CST if you do nothing for 30 minutes, and ends at 9:00 PM CST at the latest."}
	if got != want {
		t.Errorf("extend answered\n%+v\nwant\n%+v", got, want)
	}
	e.clock.Advance(29*time.Minute + 30*time.Second) // past the deadline before the extension
	b.get("/live/account").wantPath("/live/account")

	cross, err := http.NewRequest("POST", e.srv.URL+"/live/session/extend", nil)
	if err != nil {
		t.Fatal(err)
	}
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := e.do(b.c, cross); r.Status != http.StatusForbidden {
		t.Errorf("a cross-site extension answered %d", r.Status)
	}

	e.clock.Advance(31 * time.Minute)
	e.expect(b.post("/live/session/extend", nil), http.StatusUnauthorized, "session_expired")
	e.expect(b.post("/live/session/extend", nil), http.StatusUnauthorized, "unauthorized")
}
