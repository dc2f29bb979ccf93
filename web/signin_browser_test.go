package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSignInHelpsBeforeTheLock runs the sign-in page's scripts in real Chromium: the
// Caps Lock warning under the password (text on the page, tied to the field, in a live
// region), and an empty sign-in that flags both fields, with focus on the error summary and
// its links leading into the fields.
func TestBrowserSignInHelpsBeforeTheLock(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	step, text, _ := pageSteps(t, ctx, e)
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	// A key pressed in the password field with Caps Lock on or off. The DevTools protocol has
	// no Caps Lock modifier, so the event is made in the page, as the browser would send it.
	press := func(capsLock bool) {
		t.Helper()
		on := "false"
		if capsLock {
			on = "true"
		}
		eval(`(() => { const f = document.getElementById("password"); f.focus();
			f.dispatchEvent(new KeyboardEvent("keydown", {key: "a", bubbles: true, modifierCapsLock: ` + on + `}));
			f.dispatchEvent(new KeyboardEvent("keyup", {key: "a", bubbles: true, modifierCapsLock: ` + on + `}));
			return "" })()`)
	}

	step("open the sign-in page",
		chromedp.Navigate(e.srv.URL+"/live/login"),
		chromedp.WaitReady(chromedp.ID("password-capslock")))
	if got := eval(`document.getElementById("password").getAttribute("aria-describedby")`); !strings.Contains(got, "password-capslock") {
		t.Errorf("password aria-describedby %q does not name the warning", got)
	}
	if got := eval(`document.getElementById("password-capslock").getAttribute("role")`); got != "status" {
		t.Errorf("warning role %q, want status (a live region)", got)
	}
	if got := eval(`document.getElementById("password-capslock").textContent`); got != "" {
		t.Errorf("warning before any key: %q", got)
	}
	step("type with Caps Lock off", chromedp.SendKeys(chromedp.ID("password"), "abc"))
	if got := eval(`document.getElementById("password-capslock").textContent`); got != "" {
		t.Errorf("warning with Caps Lock off: %q", got)
	}
	press(true)
	if got := text("#password-capslock"); !strings.Contains(got, "Caps Lock is on") {
		t.Errorf("with Caps Lock on the warning says %q", got)
	}
	screenshot(t, ctx, "login-capslock.png")
	press(false)
	if got := eval(`document.getElementById("password-capslock").textContent`); got != "" {
		t.Errorf("warning stays after Caps Lock went off: %q", got)
	}

	eval(`document.getElementById("password").value = ""`)
	step("send the form empty",
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("error-summary")))
	if got := eval(`document.activeElement.id`); got != "error-summary" {
		t.Errorf("focus on %q after an empty sign-in, want the error summary", got)
	}
	if got := eval(`document.title`); !strings.HasPrefix(got, "Error: Sign in") {
		t.Errorf("title %q", got)
	}
	summary := text("#error-summary")
	for _, want := range []string{"There is a problem", "Enter your username.", "Enter your password."} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
	screenshot(t, ctx, "login-empty.png")
	step("follow the summary's link to the password", chromedp.Click(chromedp.CSS(`#error-summary a[href="#password"]`)))
	if got := eval(`document.activeElement.id`); got != "password" {
		t.Errorf("the summary's link left focus on %q, want the password field", got)
	}

	step("fail once",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), "Wrong-Pass-1"),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("attempts-left")))
	if got := eval(`document.activeElement.id`); got != "error-summary" {
		t.Errorf("focus on %q after a failed sign-in, want the error summary", got)
	}
	if got := text("#attempts-left"); !strings.Contains(got, "You have 2 more tries before the account locks.") {
		t.Errorf("attempts left: %q", got)
	}
	screenshot(t, ctx, "login-failed.png")
	step("follow “Reset your password instead”",
		chromedp.Click(chromedp.CSS(`#attempts-left a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/forgot-password"]`)))
	if got := eval(`document.getElementById("username").value`); got != username {
		t.Errorf("the forgot-password form has %q, want %q filled in", got, username)
	}
}
