package web_test

import (
	"context"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// TestBrowserReloadingASecretShowsItNoMore walks, in real Chromium, every page that shows a
// secret once — a new account's temporary password, a new temporary password, the recovery
// codes of a new authenticator app and new recovery codes — and reloads each, which sends its
// form again. Each reload says what the first sending did, shows the secret no more, and
// creates or changes nothing; the secret shown first is the one that works. With JavaScript,
// a double press sends a form once, and "Copy" copies the password exactly as shown.
func TestBrowserReloadingASecretShowsItNoMore(t *testing.T) {
	ctx := newChrome(t)
	w := newAdminWorld(t)
	step, text, location := pageSteps(t, ctx, w.env)
	exists := func(sel string) bool {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+"`"+sel+"`"+`) !== null`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A reload of a page that answered a form sends the form again (headless Chromium asks
	// nothing first); the page it then shows is the answer to that second sending.
	reload := func(what string) {
		t.Helper()
		step("reload "+what, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1")))
	}
	grantClipboard(t, ctx, w.srv.URL)

	step("sign in as the sysadmin",
		chromedp.Navigate(w.srv.URL+"/live/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), w.sysName),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/logout"]`)))

	// A new account.
	step("fill in the create form",
		chromedp.Navigate(w.srv.URL+"/live/admin/users/new"),
		chromedp.WaitVisible(chromedp.ID("first")),
		chromedp.SendKeys(chromedp.ID("first"), "Ana"),
		chromedp.SendKeys(chromedp.ID("last"), "Ruiz"),
		chromedp.Click(chromedp.CSS(`button[value="preview"]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	step("create the account",
		chromedp.Click(chromedp.CSS(`button[value="create"]`)),
		chromedp.WaitVisible(chromedp.ID("temp-password")))
	created := text("#temp-password")
	screenshot(t, ctx, "once-new-account.png")
	step("copy the password", chromedp.Click(chromedp.CSS(`#temp-password + .copy .copy-button`)))
	// The copy is a promise: the status says so once it is kept.
	said, err := chromedp.Run(ctx, chromedp.Poll[string](`document.querySelector("#temp-password + .copy .copy-status").textContent`))
	if err != nil || said != "Copied the temporary password." {
		t.Errorf("after Copy the page says %q (%v)", said, err)
	}
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil || clip != created {
		t.Errorf("Copy put %q (%v) on the clipboard, want the password %q", clip, err, created)
	}
	reload("the new account's page")
	if h1 := text("h1"); h1 != "This account was already created: aruiz" || exists("#temp-password") ||
		strings.Contains(text("main"), created) {
		t.Errorf("after the reload: %q, password shown %v", h1, exists("#temp-password"))
	}
	screenshot(t, ctx, "once-new-account-reloaded.png")
	if n := w.usersNamed("ruiz"); n != 1 {
		t.Fatalf("%d accounts for Ana Ruiz after the reload, want 1", n)
	}
	w.login("live", "aruiz", created)

	// A double press of "Create the account": with JavaScript the form goes once, and the page
	// shows its answer (without, the second answer would say the account was created already).
	step("fill in the form again",
		chromedp.Navigate(w.srv.URL+"/live/admin/users/new"),
		chromedp.WaitVisible(chromedp.ID("first")),
		chromedp.SendKeys(chromedp.ID("first"), "Bea"),
		chromedp.SendKeys(chromedp.ID("last"), "Ruiz"),
		chromedp.Click(chromedp.CSS(`button[value="preview"]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	step("press Create twice",
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('button[value="create"]');
			b.click(); setTimeout(() => b.click(), 0); })()`),
		chromedp.WaitVisible(chromedp.CSS("#temp-password, #temp-repeat")))
	if !exists("#temp-password") {
		t.Errorf("after a double press the page says %q: the form was sent twice", text("h1"))
	}
	if n := w.usersNamed("bruiz"); n != 1 {
		t.Errorf("a double press made %d accounts, want 1", n)
	}

	// A new temporary password for the first account.
	page := "/live/admin/users/aruiz"
	step("issue a temporary password",
		chromedp.Navigate(w.srv.URL+page),
		chromedp.WaitVisible(chromedp.CSS(`form[action="`+page+`/temporary-password"]`)),
		chromedp.Click(chromedp.CSS(`form[action="`+page+`/temporary-password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("temp-password")))
	issued := text("#temp-password")
	hash := w.passwordHash("aruiz")
	reload("the temporary password's page")
	if h1 := text("h1"); h1 != "The temporary password was already shown" || exists("#temp-password") ||
		strings.Contains(text("main"), issued) {
		t.Errorf("after the reload: %q, password shown %v", h1, exists("#temp-password"))
	}
	screenshot(t, ctx, "once-temporary-password-reloaded.png")
	if w.passwordHash("aruiz") != hash {
		t.Fatal("the reload issued another temporary password")
	}
	w.login("live", "aruiz", issued)

	// The sysadmin's own authenticator app, and new recovery codes.
	step("set up the authenticator app",
		chromedp.Navigate(w.srv.URL+"/live/account/security"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/account/security/totp"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/live/account/security/totp"] button`)),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	secret := strings.ReplaceAll(text("#totp-secret"), " ", "")
	step("turn it on",
		chromedp.SendKeys(chromedp.ID("code"), w.appCode(secret)),
		chromedp.Click(chromedp.CSS(`form[action="/live/account/security/totp/confirm"] button`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	codes := text("#recovery-codes")
	reload("the recovery codes' page")
	if h1 := text("h1"); h1 != "Your recovery codes were already shown" || exists("#recovery-codes") {
		t.Errorf("after the reload: %q at %s, codes shown %v", h1, location(), exists("#recovery-codes"))
	}
	screenshot(t, ctx, "once-recovery-codes-reloaded.png")
	step("make new recovery codes",
		chromedp.Navigate(w.srv.URL+"/live/account/security"),
		chromedp.WaitVisible(chromedp.ID("codes-left")))
	if left := text("#codes-left"); left != "10" {
		t.Errorf("%s codes left after the reload, want 10", left)
	}
	step("press Make new recovery codes",
		chromedp.Click(chromedp.CSS(`form[action="/live/account/security/recovery-codes"] button`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	fresh := text("#recovery-codes")
	if fresh == codes {
		t.Fatal("the new codes are the old ones")
	}
	reload("the new recovery codes' page")
	if h1 := text("h1"); h1 != "Your recovery codes were already shown" || exists("#recovery-codes") {
		t.Errorf("after the reload: %q, codes shown %v", h1, exists("#recovery-codes"))
	}
	// A code shown before the reload signs in: the reload made no others.
	w.expect(w.api("POST", "live", "/login", "", map[string]any{"username": w.sysName, "password": goodPassword,
		"totp_code": strings.Fields(fresh)[0]}), 200, "")
}

// grantClipboard lets the pages of origin use the clipboard without asking, as a person
// allowing it would.
func grantClipboard(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := cdp.Call(ctx, tg, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted,
				Origin: origin}); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
}
