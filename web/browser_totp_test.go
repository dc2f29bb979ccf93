package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTOTP turns on the authenticator app from the security settings in real Chromium,
// with the code computed here from the secret the page shows (as a phone would), then signs
// out and back in with a code.
func TestBrowserTOTP(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	step, text, location := pageSteps(t, ctx, e)
	signIn := func() {
		t.Helper()
		step("sign in",
			chromedp.Navigate(e.srv.URL+"/live/login"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username),
			chromedp.SendKeys(chromedp.ID("password"), goodPassword),
			chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.ID("session-timeout")))
	}
	signIn()
	step("open the security settings",
		chromedp.Click(chromedp.CSS(`a[href="/live/account/security"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/account/security/totp"] button`)))
	screenshot(t, ctx, "security.png")
	step("set up the authenticator app",
		chromedp.Click(chromedp.CSS(`form[action="/live/account/security/totp"] button`)),
		chromedp.WaitVisible(chromedp.ID("totp-secret")),
		chromedp.WaitVisible(chromedp.CSS("img.qr")))
	secret := strings.ReplaceAll(text("#totp-secret"), " ", "")
	screenshot(t, ctx, "totp-setup.png")
	step("type the first code",
		chromedp.SendKeys(chromedp.ID("code"), e.appCode(secret)),
		chromedp.Click(chromedp.CSS(`form[action="/live/account/security/totp/confirm"] button`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	if codes := strings.Fields(text("#recovery-codes")); len(codes) != 10 {
		t.Errorf("recovery codes shown: %q", codes)
	}
	screenshot(t, ctx, "recovery-codes.png")
	step("saved the codes",
		chromedp.Click(chromedp.CSS(`a.button`)),
		chromedp.WaitVisible(chromedp.ID("codes-left")))
	step("sign out",
		chromedp.Navigate(e.srv.URL+"/live/account"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/logout"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/live/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("username")))

	e.clock.Advance(30 * time.Second)
	step("sign in with the password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/login/verify"]`)))
	if got := location(); got != "/live/login/verify" {
		t.Fatalf("after the password at %s", got)
	}
	screenshot(t, ctx, "verify.png")
	step("type a wrong code",
		chromedp.SendKeys(chromedp.ID("code"), "000000"),
		chromedp.Click(chromedp.CSS(`form[action="/live/login/verify"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if msg := text(".error-summary"); !strings.Contains(msg, "That code is not right") {
		t.Errorf("wrong code says %q", msg)
	}
	step("type the code the app shows",
		chromedp.SendKeys(chromedp.ID("code"), e.appCode(secret)),
		chromedp.Click(chromedp.CSS(`form[action="/live/login/verify"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".details")))
	if got := location(); got != "/live/account" {
		t.Errorf("signed in at %s, want /live/account", got)
	}
	if s := text(".details"); !strings.Contains(s, username) {
		t.Errorf("account page: %q", s)
	}
}
