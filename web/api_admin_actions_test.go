package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

type createdBody struct {
	Username          string `json:"username"`
	TemporaryPassword string `json:"temporary_password"`
}

func TestCreateUserGeneratesUsernames(t *testing.T) {
	w := newAdminWorld(t)
	jane := map[string]any{"first_name": "Jane", "last_name": "Doe", "email": "jane.doe@agency.example.org"}
	for _, want := range []string{"jdoe", "jdoe2"} {
		r := w.expect(w.api("POST", "live", "/users", w.northAdmin, jane), 201, "")
		var c createdBody
		r.decode(&c)
		if c.Username != want || len(c.TemporaryPassword) < 8 {
			t.Fatalf("created %+v, want %s with a temporary password", c, want)
		}
		if loc := r.Header.Get("Location"); loc != "/api/v1/sites/live/users/"+want {
			t.Errorf("Location %q", loc)
		}
	}
	var u adminUser
	w.expect(w.api("GET", "live", "/users/jdoe2", w.sys, nil), 200, "").decode(&u)
	if u.Agency != northName || u.Role != "user" {
		t.Errorf("an agency admin's new user is %+v, want a user of %s", u, northName)
	}
}

func TestCreateUserBeyondSeatsIsRefused(t *testing.T) {
	w := newAdminWorld(t)
	w.makeAgency("live", "Tiny Clinic", 1)
	body := map[string]any{"first_name": "Ann", "last_name": "One", "agency": "Tiny Clinic"}
	w.expect(w.api("POST", "live", "/users", w.sys, body), 201, "")
	r := w.expect(w.api("POST", "live", "/users", w.sys, body), 409, hmisauth.ESeatsFull)
	var e struct{ Message string }
	r.decode(&e)
	if want := "Agency Tiny Clinic has no free seats (1 of 1 used). Free a seat or raise the agency's seats."; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}

func TestAgencyAdminCannotGrantSysadmin(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Mia", "Member", "mia@agency.example.org", "user", northName)
	for _, body := range []map[string]any{{"role": "sysadmin"}, {"agency": southName}, {"role": "sysadmin", "phone": "555-0100"}} {
		w.expect(w.api("PATCH", "live", "/users/mmember", w.northAdmin, body), 403, hmisauth.EFORBIDDEN)
	}
	w.expect(w.api("POST", "live", "/users", w.northAdmin,
		map[string]any{"first_name": "Evil", "last_name": "Twin", "role": "sysadmin"}), 403, hmisauth.EFORBIDDEN)
	w.expect(w.api("POST", "live", "/users", w.northAdmin,
		map[string]any{"first_name": "Evil", "last_name": "Twin", "agency": southName}), 403, hmisauth.EFORBIDDEN)

	var u adminUser
	w.expect(w.api("GET", "live", "/users/mmember", w.sys, nil), 200, "").decode(&u)
	if u.Role != "user" || u.Agency != northName || u.Phone != "" {
		t.Errorf("refused edits changed the user: %+v", u)
	}
	// What an agency admin may do: promote within the agency.
	w.expect(w.api("PATCH", "live", "/users/mmember", w.northAdmin, map[string]any{"role": "agency_admin", "phone": "555-0123"}), 200, "").decode(&u)
	if u.Role != "agency_admin" || u.Phone != "555-0123" {
		t.Errorf("after edit: %+v", u)
	}
	u = adminUser{}
	w.expect(w.api("PATCH", "live", "/users/mmember", w.sys, map[string]any{"role": "sysadmin", "agency": ""}), 200, "").decode(&u)
	if u.Role != "sysadmin" || u.Agency != "" {
		t.Errorf("sysadmin's edit: %+v", u)
	}
}

func TestUserDetailShowsTheLoginDoctor(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Lou", "Locked", "", "user", northName)
	w.lockOut("live", "llocked")
	var u adminUser
	w.expect(w.api("GET", "live", "/users/LLocked", w.northAdmin, nil), 200, "").decode(&u)
	if u.Username != "llocked" || u.Status != "locked" {
		t.Fatalf("user %+v", u)
	}
	var codes []string
	for _, p := range u.Problems {
		codes = append(codes, p.Code)
		if p.Message == "" || p.Fix == "" {
			t.Errorf("problem %+v lacks message or fix", p)
		}
	}
	if !slices.Contains(codes, "locked") || !slices.Contains(codes, "no_email") {
		t.Fatalf("problems %v, want locked and no_email", codes)
	}
	locked := u.Problems[slices.Index(codes, "locked")]
	if locked.Since == nil {
		t.Fatal("locked problem has no since")
	}
	if since, err := time.Parse(time.RFC3339, *locked.Since); err != nil || !since.Equal(w.clock.Now()) {
		t.Errorf("locked since %s (%v), want %s", *locked.Since, err, w.clock.Now())
	}
	w.expect(w.api("GET", "live", "/users/nobody", w.sys, nil), 404, hmisauth.ENOTFOUND)
}

// TestLockedUserIsHelpedBackIn is the helpdesk's call: unlock, then a temporary password the
// user signs in with.
func TestLockedUserIsHelpedBackIn(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Lou", "Locked", "lou@agency.example.org", "user", northName)
	w.lockOut("live", "llocked")
	var u adminUser
	w.expect(w.api("POST", "live", "/users/llocked/unlock", w.northAdmin, nil), 200, "").decode(&u)
	if u.Status != "active" {
		t.Errorf("after unlock: %+v", u)
	}
	var c createdBody
	w.expect(w.api("POST", "live", "/users/llocked/temporary-password", w.northAdmin, nil), 200, "").decode(&c)
	if c.Username != "llocked" || c.TemporaryPassword == "" {
		t.Fatalf("temporary password answer %+v", c)
	}
	r := w.expect(w.api("POST", "live", "/login", "", map[string]any{"username": "llocked", "password": c.TemporaryPassword}), 200, "")
	var body actionsBody
	r.decode(&body)
	if !slices.Contains(body.RequiredActions, hmisauth.RequiredAction{Name: "change_password", Reason: "temporary"}) {
		t.Errorf("required actions %+v", body.RequiredActions)
	}
}

func TestEndSessionsSignsTheUserOut(t *testing.T) {
	w := newAdminWorld(t)
	w.expect(w.api("GET", "live", "/me", w.plain, nil), 200, "")
	w.expect(w.api("DELETE", "live", "/users/pplain/sessions", w.northAdmin, nil), 204, "")
	w.expect(w.api("GET", "live", "/me", w.plain, nil), 401, hmisauth.EUnauthorized)
}

type auditPage struct {
	Events []struct {
		ID      int64
		Time    time.Time
		Actor   string
		Subject string
		Action  string
		Detail  string
	}
	NextBefore int64 `json:"next_before"`
}

func TestAuditListsNewestFirstInPages(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Tess", "Target", "tess@agency.example.org", "user", northName)
	for _, step := range []string{"unlock", "expire-password", "disable", "enable"} {
		w.expect(w.api("POST", "live", "/users/ttarget/"+step, w.sys, nil), 200, "")
	}
	w.expect(w.api("DELETE", "live", "/users/ttarget/sessions", w.northAdmin, nil), 204, "")

	var got []string
	before := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page auditPage
		w.expect(w.api("GET", "live", "/audit?user=TTarget&limit=2"+before, w.sys, nil), 200, "").decode(&page)
		if len(page.Events) > 2 {
			t.Fatalf("page of %d", len(page.Events))
		}
		for i, ev := range page.Events {
			if i > 0 && ev.ID >= page.Events[i-1].ID {
				t.Errorf("events not newest first: %d after %d", ev.ID, page.Events[i-1].ID)
			}
			got = append(got, ev.Action+" by "+ev.Actor)
		}
		if page.NextBefore == 0 {
			break
		}
		before = fmt.Sprintf("&before=%d", page.NextBefore)
	}
	want := []string{"sessions_ended by nnorthadmin", "user_enabled by ssysop", "user_disabled by ssysop",
		"password_expired_by_admin by ssysop", "user_unlocked by ssysop", "user_created by cli:setup"}
	if !slices.Equal(got, want) {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var page auditPage
	w.expect(w.api("GET", "live", "/audit?action=user_disabled&since=2026-03-02&until=2026-03-02", w.sys, nil), 200, "").decode(&page)
	if len(page.Events) != 1 || page.Events[0].Subject != "ttarget" || page.NextBefore != 0 {
		t.Errorf("filtered: %+v", page)
	}
	w.expect(w.api("GET", "live", "/audit?since=2026-03-03", w.sys, nil), 200, "").decode(&page)
	if len(page.Events) != 0 {
		t.Errorf("events from tomorrow: %+v", page.Events)
	}
	// The training site's log is its own.
	w.expect(w.api("GET", "training", "/audit?user=ttarget", w.training, nil), 200, "").decode(&page)
	if len(page.Events) != 0 {
		t.Errorf("training sees live events: %+v", page.Events)
	}
}

func TestAgenciesAreCreatedAndChanged(t *testing.T) {
	w := newAdminWorld(t)
	var a struct {
		ID             int64
		Name           string
		Seats          int
		SeatsUsed      int    `json:"seats_used"`
		LicenseStarts  string `json:"license_starts"`
		LicenseExpires string `json:"license_expires"`
	}
	w.expect(w.api("POST", "live", "/agencies", w.sys, map[string]any{"name": "East Clinic", "seats": 3,
		"license_starts": "2026-01-01", "license_expires": "2026-12-31"}), 201, "").decode(&a)
	if a.Name != "East Clinic" || a.Seats != 3 || a.LicenseExpires != "2026-12-31" || a.ID == 0 {
		t.Fatalf("created %+v", a)
	}
	w.makeUser("live", "Ed", "East", "", "user", "East Clinic")
	path := fmt.Sprintf("/agencies/%d", a.ID)
	w.expect(w.api("PATCH", "live", path, w.sys, map[string]any{"name": "East Health", "license_expires": "2027-12-31"}), 200, "").decode(&a)
	if a.Name != "East Health" || a.Seats != 3 || a.SeatsUsed != 1 || a.LicenseExpires != "2027-12-31" {
		t.Errorf("changed %+v", a)
	}
	w.expect(w.api("POST", "live", "/agencies", w.sys, map[string]any{"name": "east health"}), 409, hmisauth.ECONFLICT)
	w.expect(w.api("GET", "live", "/agencies/99999", w.sys, nil), 404, hmisauth.ENOTFOUND)
	w.expect(w.api("GET", "live", "/agencies/east", w.sys, nil), 404, hmisauth.ENOTFOUND)
	// Another site's agency is not found, not merely forbidden.
	w.expect(w.api("GET", "training", path, w.training, nil), 404, hmisauth.ENOTFOUND)
}

func TestAdminBadInputNamesTheField(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Tess", "Target", "", "user", northName)
	for _, tc := range []struct {
		method, path string
		body         any
		field        string
	}{
		{"POST", "/users", map[string]any{"last_name": "Doe"}, "first_name"},
		{"POST", "/users", map[string]any{"first_name": "Jo", "last_name": "Doe", "email": "nope"}, "email"},
		{"POST", "/users", map[string]any{"first_name": "Jo", "last_name": "Doe", "role": "root"}, "role"},
		{"POST", "/users", map[string]any{"first_name": "Jo", "last_name": "Doe", "colour": "red"}, "colour"},
		{"PATCH", "/users/ttarget", map[string]any{"last_name": ""}, "last_name"},
		{"PATCH", "/users/ttarget", map[string]any{"phone": 5550100}, "phone"},
		{"PUT", "/users/ttarget/agreement", map[string]any{"signed_on": "03/01/2026"}, "signed_on"},
		{"PUT", "/users/ttarget/agreement", map[string]any{"signed_on": "2026-03-01", "expires_on": "2025-01-01"}, "expires_on"},
		{"POST", "/agencies", map[string]any{"name": "X", "license_expires": "soon"}, "license_expires"},
		{"POST", "/agencies", map[string]any{"name": "X", "seats": -1}, "seats"},
		{"GET", "/users?limit=0", nil, "limit"},
		{"GET", "/audit?since=yesterday", nil, "since"},
		{"GET", "/audit?before=x", nil, "before"},
	} {
		r := w.api(tc.method, "live", tc.path, w.sys, tc.body)
		var e struct{ Error, Field string }
		r.decode(&e)
		if r.Status != 400 || e.Error != hmisauth.EINVALID || e.Field != tc.field {
			t.Errorf("%s %s %v: %d %s, want 400 invalid %s", tc.method, tc.path, tc.body, r.Status, r.Body, tc.field)
		}
	}
}
