package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// TestBrowserConsoleUnlocksAndIssuesATemporaryPassword walks the helpdesk console in real
// Chromium: a sysadmin finds a locked user through the locked-accounts filter, reads the
// doctor, unlocks the account, issues a temporary password; the user then signs in with it and
// lands on the terms, as at any first sign-in.
func TestBrowserConsoleUnlocksAndIssuesATemporaryPassword(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t)
	admin := e.activeUser("live", "Sam", "Sysop", goodPassword)
	sysadmin := string(hmisauth.RoleSysadmin)
	if _, err := e.svc.UpdateUser(context.Background(), "live", admin, auth.ProfileChange{Role: &sysadmin}); err != nil {
		t.Fatal(err)
	}
	locked, _ := e.newUser("live", "Lena", "Locked")
	e.lockOut("live", locked) // 3 wrong sign-ins through the API
	step, text, location := pageSteps(t, ctx, e)
	page := "/live/admin/users/" + locked

	step("sign in as the sysadmin",
		chromedp.Navigate(e.srv.URL+"/live/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), admin),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/logout"]`)))
	if got := location(); !strings.HasPrefix(got, "/live/account") {
		t.Fatalf("after the sysadmin's sign-in at %s, want the account page", got)
	}

	step("open the users list",
		chromedp.Navigate(e.srv.URL+"/live/admin/users"),
		chromedp.WaitVisible(chromedp.ID("status")))
	step("filter for locked accounts",
		chromedp.SetValue(chromedp.ID("status"), auth.StatusLocked),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
		// Only the filtered page has the choice selected.
		chromedp.WaitReady(chromedp.CSS(`#status option[value="`+auth.StatusLocked+`"][selected]`)),
		chromedp.WaitVisible(chromedp.CSS(`.admin-table a[href="`+page+`"]`)))
	if got := location(); !strings.Contains(got, "status="+auth.StatusLocked) {
		t.Errorf("filtered list at %s, want status=%s in the address", got, auth.StatusLocked)
	}
	if table := text(".admin-table tbody"); !strings.Contains(table, "Lena Locked") || strings.Contains(table, admin) {
		t.Errorf("locked-accounts list %q: want Lena Locked and not %s", table, admin)
	}
	screenshot(t, ctx, "console-locked-users.png")

	step("open the locked user's page",
		chromedp.Click(chromedp.CSS(`.admin-table a[href="`+page+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("section.doctor")))
	if got := location(); got != page {
		t.Fatalf("the link led to %s, want %s", got, page)
	}
	if doctor := text("section.doctor"); !strings.Contains(doctor, "Locked") || !strings.Contains(doctor, "Blocks sign-in") {
		t.Errorf("doctor %q does not say the account is locked", doctor)
	}
	screenshot(t, ctx, "console-doctor.png")

	step("unlock the account",
		chromedp.Click(chromedp.CSS(`ul.actions form[action="`+page+`/unlock"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("done")))
	if got := location(); !strings.HasPrefix(got, page+"?") && got != page {
		t.Errorf("after unlocking at %s, want %s", got, page)
	}
	if notice := text("#done"); !strings.Contains(notice, "The account was unlocked.") {
		t.Errorf("notice %q", notice)
	}
	if doctor := text("section.doctor"); strings.Contains(doctor, "Locked after") {
		t.Errorf("doctor still says locked after unlocking: %q", doctor)
	}

	step("issue a temporary password",
		chromedp.Click(chromedp.CSS(`ul.actions form[action="`+page+`/temporary-password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("temp-password")))
	temp := strings.TrimSpace(text("#temp-password"))
	if temp == "" {
		t.Fatal("no temporary password shown")
	}
	if u := strings.TrimSpace(text("#temp-username")); u != locked {
		t.Errorf("temporary password page for %q, want %q", u, locked)
	}

	step("sign out",
		chromedp.Navigate(e.srv.URL+"/live/account"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/logout"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/live/logout"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
		chromedp.WaitVisible(chromedp.ID("username")))
	if got := location(); !strings.HasPrefix(got, "/live/login") {
		t.Fatalf("after signing out at %s, want the sign-in page", got)
	}

	step("sign in as the user with the temporary password",
		chromedp.SendKeys(chromedp.ID("username"), locked),
		chromedp.SendKeys(chromedp.ID("password"), temp),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("terms-text")))
	if got := location(); got != "/live/terms" {
		t.Fatalf("after the user's sign-in at %s, want /live/terms", got)
	}
}
