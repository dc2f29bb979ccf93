package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserForgotPassword walks a case worker who forgot their password through
// self-service recovery in real Chromium: "Forgot password?" on the sign-in page, the e-mail
// read in the development inbox, its link clicked, a weak password refused with the broken
// rules shown, a good one, back at sign-in with a notice, and in with the new password.
func TestBrowserForgotPassword(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	step, text, location := pageSteps(t, ctx, e)

	step("open the forgot-password page from the sign-in page",
		chromedp.Navigate(e.srv.URL+"/live/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.Click(chromedp.CSS(`a[href="/live/forgot-password"]`)),
		chromedp.WaitVisible(chromedp.ID("username-hint")))
	if hint := text("#username-hint"); !strings.Contains(hint, "like jdoe") {
		t.Errorf("username hint %q", hint)
	}
	step("ask for a reset link",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.Click(chromedp.CSS(`form[action="/live/forgot-password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("forgot-sent")))
	if sent := text("#forgot-sent"); !strings.Contains(sent, "If HMIS Live has an account with that username") {
		t.Errorf("confirmation %q", sent)
	}
	screenshot(t, ctx, "forgot-sent.png")

	// The server's background workers would now write and deliver the e-mail.
	e.newMail()
	step("read the e-mail in the development inbox",
		chromedp.Navigate(e.srv.URL+"/dev/mail"),
		chromedp.WaitVisible(chromedp.CSS(".mail-text a")))
	if banner := text(".dev-banner"); !strings.Contains(banner, "Development inbox — e-mails are not really sent") {
		t.Errorf("inbox banner %q", banner)
	}
	if subject := text(".mail h2"); !strings.HasPrefix(subject, "HMIS Live: password reset requested") {
		t.Errorf("newest e-mail %q", subject)
	}
	screenshot(t, ctx, "dev-mail.png")

	step("follow the link",
		chromedp.Click(chromedp.CSS(".mail-text a")),
		chromedp.WaitVisible(chromedp.ID("password-rules")))
	if got := location(); !strings.HasPrefix(got, "/live/reset-password?token=") {
		t.Fatalf("the link led to %s", got)
	}
	if h1 := text("h1"); h1 != "Reset the password for "+username+" on HMIS Live" {
		t.Errorf("reset heading %q", h1)
	}
	screenshot(t, ctx, "reset-form.png")

	step("try a weak password",
		chromedp.SendKeys(chromedp.ID("new_password"), "password"),
		chromedp.SendKeys(chromedp.ID("confirm_password"), "password"),
		chromedp.Click(chromedp.CSS(`form[action="/live/reset-password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".violations")))
	if broken := text(".violations"); !strings.Contains(broken, "Add a capital letter (A-Z).") {
		t.Errorf("broken rules %q", broken)
	}
	screenshot(t, ctx, "reset-broken-rules.png")

	step("choose a good password",
		chromedp.SendKeys(chromedp.ID("new_password"), otherPassword),
		chromedp.SendKeys(chromedp.ID("confirm_password"), otherPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/reset-password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := location(); got != "/live/login?notice=password_reset" {
		t.Errorf("after the reset at %s", got)
	}
	if notice := text(".notice"); notice != "Your password was reset. Sign in with your new password." {
		t.Errorf("notice %q", notice)
	}

	step("sign in with the new password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), otherPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".details")))
	if got := location(); got != "/live/account" {
		t.Errorf("signed in at %s, want the account page", got)
	}
	if h1 := text("h1"); !strings.Contains(h1, "Maria Lopez") {
		t.Errorf("account heading %q", h1)
	}
}
