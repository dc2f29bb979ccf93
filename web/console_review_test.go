package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// newReviewWorld is newAdminWorld on sites that ask for an access-log review every 30 days.
func newReviewWorld(t *testing.T) *adminWorld {
	t.Helper()
	sites := testSites()
	for _, s := range sites {
		s.Policy.LogReviewEvery = 30 * 24 * time.Hour
		s.Policy.Password.MaxAgeDays = 0 // the test's clock runs past the default's expiry
	}
	w := &adminWorld{env: newEnvSites(t, sites)}
	w.north = w.makeAgency("live", northName, 0)
	w.south = w.makeAgency("live", southName, 0)
	w.sysName, w.sys = w.signedIn("live", "Sam", "Sysop", "sysadmin", "")
	w.northAdminName, w.northAdmin = w.signedIn("live", "Nora", "Northadmin", "agency_admin", northName)
	w.southAdminName, w.southAdmin = w.signedIn("live", "Sol", "Southadmin", "agency_admin", southName)
	return w
}

// makeOfficer makes North's admin its security officer through the API, as a sysadmin.
func (w *adminWorld) makeOfficer() {
	w.t.Helper()
	var got struct {
		Role            string `json:"role"`
		SecurityOfficer bool   `json:"security_officer"`
	}
	w.expect(w.api("PATCH", "live", "/users/"+w.northAdminName, w.sys, map[string]any{"security_officer": true}), 200, "").decode(&got)
	if !got.SecurityOfficer || got.Role != "agency_admin" {
		w.t.Fatalf("after PATCH security_officer: %+v", got)
	}
}

type auditEventsPage struct {
	Events []struct {
		Actor   string `json:"actor"`
		Subject string `json:"subject"`
		Action  string `json:"action"`
	} `json:"events"`
}

func TestOfficerSeesOnlyTheirAgencysEvents(t *testing.T) {
	w := newAdminWorld(t)
	northUser := w.makeUser("live", "Nia", "North", "", "user", northName).User.Username
	southUser := w.makeUser("live", "Sid", "South", "", "user", southName).User.Username
	w.lockOut("live", northUser)
	w.lockOut("live", southUser)

	// Only a sysadmin chooses officers, and only among agency admins; nothing is written
	// when refused.
	before := w.newestEventID()
	w.expect(w.api("PATCH", "live", "/users/"+w.northAdminName, w.northAdmin, map[string]any{"security_officer": true}), 403, "forbidden")
	w.expect(w.api("PATCH", "live", "/users/"+northUser, w.sys, map[string]any{"security_officer": true}), 400, "invalid")
	if after := w.newestEventID(); after != before {
		t.Errorf("refused officer changes wrote events %d..%d", before+1, after)
	}
	// Until then North's admin cannot read the log, like any agency admin.
	w.expect(w.api("GET", "live", "/audit", w.northAdmin, nil), 403, "forbidden")
	w.makeOfficer()
	evs, err := w.store.Events(context.Background(), hmisauth.EventQuery{Action: hmisauth.EventSecurityOfficer})
	if err != nil || len(evs) != 1 || evs[0].Actor != w.sysName || evs[0].Subject != w.northAdminName || evs[0].AgencyID != w.north.ID {
		t.Fatalf("security officer events: %+v %v", evs, err)
	}

	subjects := func(token string) map[string]bool {
		t.Helper()
		var page auditEventsPage
		w.expect(w.api("GET", "live", "/audit?limit=500", token, nil), 200, "").decode(&page)
		seen := map[string]bool{}
		for _, ev := range page.Events {
			seen[ev.Subject], seen[ev.Actor] = true, true
		}
		return seen
	}
	officer := subjects(w.northAdmin)
	for _, want := range []string{northUser, w.northAdminName} {
		if !officer[want] {
			t.Errorf("the officer's audit log does not name %s", want)
		}
	}
	for _, other := range []string{southUser, w.southAdminName, w.sysName + "-never"} {
		if officer[other] {
			t.Errorf("the officer's audit log names %s, of another agency", other)
		}
	}
	// The sysadmin's whole log names both agencies' users.
	if all := subjects(w.sys); !all[northUser] || !all[southUser] {
		t.Errorf("the sysadmin's audit log lacks a user: %v", all)
	}
	// South's admin, no officer, stays refused.
	w.expect(w.api("GET", "live", "/audit", w.southAdmin, nil), 403, "forbidden")

	// The console: the officer's page, downloads and sign-in activity hold North's only.
	b := w.signInBrowser(w.northAdminName)
	b.get("/live/admin/users").wantText(`href="/live/admin/audit"`)
	r := b.get("/live/admin/audit")
	if r.Status != http.StatusOK {
		t.Fatalf("officer's audit page: status %d", r.Status)
	}
	r.wantText("You are the security officer of "+northName, "<td>"+northUser+"</td>", "<td>account_locked</td>",
		`id="activity"`, ">"+northUser+"</a>").lackText(southUser, w.southAdminName)
	b.get("/live/admin/audit?user=" + southUser).wantText(`id="no-events"`).lackText("<td>" + southUser + "</td>")
	dl := b.get("/live/admin/audit/download?format=csv")
	if dl.Status != http.StatusOK || !strings.Contains(dl.text(), northUser) || strings.Contains(dl.text(), southUser) {
		t.Errorf("officer's download: status %d, names North's user %v, South's %v", dl.Status,
			strings.Contains(dl.text(), northUser), strings.Contains(dl.text(), southUser))
	}
	south := w.signInBrowser(w.southAdminName)
	if r := south.get("/live/admin/audit"); r.Status != http.StatusForbidden {
		t.Errorf("non-officer agency admin: audit page status %d, want 403", r.Status)
	}
	// A sysadmin's console shows both, and the user page's officer button.
	sys := w.signInBrowser(w.sysName)
	sys.get("/live/admin/audit?limit=500").wantText("<td>" + northUser + "</td>").lackText("You are the security officer")
	sys.get("/live/admin/users/"+w.northAdminName).wantText("is their agency's security officer", "Stop being the security officer")
	sys.get("/live/admin/users/" + northUser).lackText("security-officer")

	// Made a plain user, they are no officer any more.
	w.expect(w.api("PATCH", "live", "/users/"+w.northAdminName, w.sys, map[string]any{"role": "user"}), 200, "")
	if u, err := w.store.User(context.Background(), "live", w.northAdminName); err != nil || u.SecurityOfficer {
		t.Errorf("after the role change: officer %v (%v)", u != nil && u.SecurityOfficer, err)
	}
}

func TestAccessLogReviewSignOffAndNag(t *testing.T) {
	w := newReviewWorld(t)
	sys := w.signInBrowser(w.sysName)
	sys.get("/live/admin/users").wantText(`id="review-nag"`, "The access log has not been reviewed yet", "every 30 days")

	page := sys.get("/live/admin/audit")
	page.wantText(`id="review-nag"`, `id="reviews"`, "No review has been recorded yet.")
	token, found := page.findFormToken("/live/admin/audit/reviews")
	if !found || token == "" {
		t.Fatal("the review form has no one-time token")
	}
	form := url.Values{"form_token": {token}, "review_from": {"2026-02-01"}, "review_to": {"2026-01-31"}, "findings": {"None"}}
	r := sys.post("/live/admin/audit/reviews", form)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("a period ending before it starts: status %d", r.Status)
	}
	r.wantText("There is a problem", `href="#review_to"`, "The last day reviewed must be on or after the first day.", `value="2026-02-01"`)
	form.Set("review_to", "2026-02-28")
	form.Set("findings", " ")
	sys.post("/live/admin/audit/reviews", form).wantText(`href="#findings"`, "Enter what you found")
	form.Set("review_to", "2026-03-03") // tomorrow, in Chicago
	form.Set("findings", "None")
	sys.post("/live/admin/audit/reviews", form).wantText("The last day reviewed cannot be in the future.")

	form.Set("review_to", "2026-02-28")
	form.Set("findings", "Three failed sign-ins for one user at night.")
	form.Set("follow_up", "Asked her supervisor.")
	r = sys.post("/live/admin/audit/reviews", form)
	if r.Status != http.StatusOK || r.URL.Path != "/live/admin/audit" {
		t.Fatalf("recording: status %d at %s", r.Status, r.URL)
	}
	r.wantText("The review was recorded", "Three failed sign-ins for one user at night.", "Asked her supervisor.",
		"Feb 1, 2026 to Feb 28, 2026", "<td>access_log_reviewed</td>").lackText(`id="review-nag"`)
	// Sent again (a reload, a double click): still one review.
	sys.post("/live/admin/audit/reviews", form)
	reviews, err := w.store.LogReviews(context.Background(), "live", 0)
	if err != nil || len(reviews) != 1 {
		t.Fatalf("site reviews: %d %v, want 1", len(reviews), err)
	}
	rev := reviews[0]
	if rev.Reviewer != w.sysName || rev.From != "2026-02-01" || rev.To != "2026-02-28" || rev.AgencyID != 0 {
		t.Errorf("review stored as %+v", rev)
	}
	evs, err := w.store.Events(context.Background(), hmisauth.EventQuery{Action: hmisauth.EventAccessLogReviewed})
	if err != nil || len(evs) != 1 || evs[0].Actor != w.sysName || evs[0].Detail != "reviewed 2026-02-01 to 2026-02-28" {
		t.Fatalf("review events: %+v %v", evs, err)
	}
	sys.get("/live/admin/users").lackText(`id="review-nag"`)

	// An agency's officer reviews their agency's log, apart from the site's.
	w.makeOfficer()
	officer := w.signInBrowser(w.northAdminName)
	officer.get("/live/admin/users").wantText("Your agency's access log has not been reviewed yet")
	page = officer.get("/live/admin/audit")
	token, _ = page.findFormToken("/live/admin/audit/reviews")
	r = officer.post("/live/admin/audit/reviews", url.Values{"form_token": {token}, "review_from": {"2026-03-01"},
		"review_to": {"2026-03-02"}, "findings": {"None"}})
	r.wantText("The review was recorded").lackText(`id="review-nag"`, "Three failed sign-ins")
	north, err := w.store.LogReviews(context.Background(), "live", w.north.ID)
	if err != nil || len(north) != 1 || north[0].Reviewer != w.northAdminName {
		t.Fatalf("North's reviews: %+v %v", north, err)
	}
	// South's admin, no officer, may not review.
	south := w.signInBrowser(w.southAdminName)
	south.get("/live/admin/users").lackText(`id="review-nag"`)
	if r := south.post("/live/admin/audit/reviews", url.Values{"review_from": {"2026-03-01"}, "review_to": {"2026-03-02"},
		"findings": {"None"}}); r.Status != http.StatusForbidden {
		t.Errorf("non-officer review: status %d, want 403", r.Status)
	}

	// 29 days on the review is recent; 45 days on it is overdue (signing in again: the
	// sessions time out meanwhile).
	w.clock.Advance(29 * 24 * time.Hour)
	w.signInBrowser(w.sysName).get("/live/admin/users").lackText(`id="review-nag"`)
	w.clock.Advance(16 * 24 * time.Hour)
	w.signInBrowser(w.sysName).get("/live/admin/users").wantText("The access log was last reviewed 45 days ago",
		"your site asks for a review every 30 days")
	// The officer's agency was reviewed on the same day: their reminder is their own.
	w.signInBrowser(w.northAdminName).get("/live/admin/audit").wantText("Your agency's access log was last reviewed 45 days ago")
}
