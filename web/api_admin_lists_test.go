package web_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

func wantUsernames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: users %v, want %v", what, got, want)
	}
}

// TestAgencyAdminSeesOnlyTheirAgency searches with text that matches users of both agencies,
// of none, and a sysadmin who belongs to North: North's admin only ever sees North's users.
func TestAgencyAdminSeesOnlyTheirAgency(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Alex", "Rivera", "", "user", northName)   // arivera
	w.makeUser("live", "Alexis", "Rivers", "", "user", southName) // arivers
	w.makeUser("live", "Ana", "Rivas", "", "user", "")            // arivas
	w.makeUser("live", "Rick", "Rivard", "", "sysadmin", northName)
	w.lockOut("live", "arivera")
	w.lockOut("live", "arivers")

	for _, q := range []string{"?query=riv", "?query=RIV&status=no_email", "?status=locked", "?query=alex", "?agency=north+shelter&query=r"} {
		r := w.expect(w.api("GET", "live", "/users"+q, w.northAdmin, nil), 200, "")
		var page usersPage
		r.decode(&page)
		for _, u := range page.Users {
			if u.Agency != northName || u.Role == "sysadmin" {
				t.Errorf("%s: North's admin sees %s of %q (%s)", q, u.Username, u.Agency, u.Role)
			}
		}
		if strings.Contains(r.text(), "Rivers") || strings.Contains(r.text(), "Rivas") || strings.Contains(r.text(), "Rivard") {
			t.Errorf("%s: answer mentions another agency's user: %s", q, r.Body)
		}
	}
	wantUsernames(t, "north riv", w.expect(w.api("GET", "live", "/users?query=riv", w.northAdmin, nil), 200, "").usernames(), "arivera")
	wantUsernames(t, "north all", w.expect(w.api("GET", "live", "/users", w.northAdmin, nil), 200, "").usernames(),
		"arivera", "nnorthadmin", "pplain")
	wantUsernames(t, "sysadmin riv", w.expect(w.api("GET", "live", "/users?query=riv", w.sys, nil), 200, "").usernames(),
		"arivas", "arivera", "arivers", "rrivard")
	wantUsernames(t, "sysadmin locked", w.expect(w.api("GET", "live", "/users?status=locked", w.sys, nil), 200, "").usernames(),
		"arivera", "arivers")

	// Naming another agency, or one of its users, is refused without saying whether it exists.
	w.expect(w.api("GET", "live", "/users?agency="+url.QueryEscape(southName), w.northAdmin, nil), 403, hmisauth.EFORBIDDEN)
	for _, u := range []string{"arivers", "arivas", "rrivard", "nobody"} {
		r := w.expect(w.api("GET", "live", "/users/"+u, w.northAdmin, nil), 403, hmisauth.EFORBIDDEN)
		if strings.Contains(r.text(), "Rivers") || strings.Contains(r.text(), southName) {
			t.Errorf("refusal leaks: %s", r.Body)
		}
	}
	w.expect(w.api("POST", "live", "/users/rrivard/temporary-password", w.northAdmin, nil), 403, hmisauth.EFORBIDDEN)

	var agencies struct{ Agencies []struct{ Name string } }
	w.expect(w.api("GET", "live", "/agencies", w.southAdmin, nil), 200, "").decode(&agencies)
	if len(agencies.Agencies) != 1 || agencies.Agencies[0].Name != southName {
		t.Errorf("South's admin sees agencies %+v", agencies.Agencies)
	}
	w.expect(w.api("GET", "live", "/agencies", w.sys, nil), 200, "").decode(&agencies)
	if len(agencies.Agencies) != 2 {
		t.Errorf("sysadmin sees agencies %+v", agencies.Agencies)
	}
}

func TestSysadminFiltersUsersByStatus(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Lou", "Locked", "lou@agency.example.org", "user", northName)
	w.makeUser("live", "Nell", "Nomail", "", "user", southName)
	w.makeUser("live", "Abe", "Agreed", "abe@agency.example.org", "user", northName)
	w.makeUser("live", "Dot", "Disabled", "dot@agency.example.org", "user", "")
	w.lockOut("live", "llocked")
	w.expect(w.api("PUT", "live", "/users/aagreed/agreement", w.sys,
		map[string]any{"signed_on": "2025-01-02", "supervisor_signed_on": "2025-01-03", "director_signed_on": "2025-01-04",
			"expires_on": "2026-01-31"}), 200, "")
	w.expect(w.api("POST", "live", "/users/ddisabled/disable", w.sys, nil), 200, "")

	for status, want := range map[string][]string{
		"locked":            {"llocked"},
		"no_email":          {"nnomail"},
		"agreement_expired": {"aagreed"},
		"disabled":          {"ddisabled"},
	} {
		r := w.expect(w.api("GET", "live", "/users?status="+status, w.sys, nil), 200, "")
		wantUsernames(t, status, r.usernames(), want...)
	}
	wantUsernames(t, "locked+query", w.expect(w.api("GET", "live", "/users?status=locked&query=nobody", w.sys, nil), 200, "").usernames())
	wantUsernames(t, "agency", w.expect(w.api("GET", "live", "/users?agency=south+outreach", w.sys, nil), 200, "").usernames(),
		"nnomail", "ssouthadmin")

	var page usersPage
	w.expect(w.api("GET", "live", "/users?status=locked", w.sys, nil), 200, "").decode(&page)
	if page.Users[0].Status != "locked" {
		t.Errorf("status %q", page.Users[0].Status)
	}
	w.expect(w.api("GET", "live", "/users?status=sleepy", w.sys, nil), 400, hmisauth.EINVALID)
}

// TestInactiveFilterFollowsTheClock creates accounts, lets 91 days pass (the site locks after
// 90), then asks as a sysadmin who signed in today.
func TestInactiveFilterFollowsTheClock(t *testing.T) {
	e := newEnv(t)
	e.makeUser("live", "Olga", "Old", "olga@agency.example.org", "user", "")
	e.makeUser("live", "Otto", "Older", "otto@agency.example.org", "user", "")
	e.clock.Advance(91 * 24 * time.Hour)
	e.makeUser("live", "Nina", "New", "nina@agency.example.org", "user", "")
	_, sys := e.signedIn("live", "Sam", "Sysop", "sysadmin", "")

	r := e.expect(e.api("GET", "live", "/users?status=inactive", sys, nil), 200, "")
	wantUsernames(t, "inactive", r.usernames(), "oold", "oolder")
	var page usersPage
	r.decode(&page)
	if p := page.Users[0].Problems; len(p) == 0 || p[0].Code != "inactive" || p[0].Since == nil {
		t.Errorf("problems %+v", p)
	}
	// A temporary password is the doctor's fix: it reactivates.
	e.expect(e.api("POST", "live", "/users/oold/temporary-password", sys, nil), 200, "")
	wantUsernames(t, "after fix", e.expect(e.api("GET", "live", "/users?status=inactive", sys, nil), 200, "").usernames(), "oolder")
}

func TestUserListPages(t *testing.T) {
	w := newAdminWorld(t)
	for _, first := range []string{"Ann", "Ben", "Cal", "Dee", "Eve"} {
		w.makeUser("live", first, "Page", "", "user", northName)
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page usersPage
		w.expect(w.api("GET", "live", "/users?query=page&limit=2&after="+after, w.northAdmin, nil), 200, "").decode(&page)
		if len(page.Users) > 2 {
			t.Fatalf("page of %d", len(page.Users))
		}
		for _, u := range page.Users {
			got = append(got, u.Username)
		}
		if page.NextAfter == "" {
			break
		}
		after = page.NextAfter
	}
	wantUsernames(t, "pages", got, "apage", "bpage", "cpage", "dpage", "epage")
	w.expect(w.api("GET", "live", "/users?limit=lots", w.sys, nil), 400, hmisauth.EINVALID)
}
