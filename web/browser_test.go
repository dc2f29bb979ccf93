package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome binary. Without one the browser test is skipped on a
// developer's machine, but in CI (CI=true) a missing browser is a failure: the suite must not
// quietly stop testing the real pages.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (looked for chromium, chromium-browser, google-chrome); CI must run the browser test: apt-get install chromium")
	}
	t.Skip("no Chromium found; install chromium to run the browser test (it is required when CI=true)")
	return ""
}

// TestBrowserFirstSignIn walks a case worker's first sign-in in real Chromium: temporary
// password, terms, a weak password refused with its broken rules shown, a good one, and the
// account page. No JavaScript of ours runs; the browser only submits forms.
func TestBrowserFirstSignIn(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t)
	username, temp := e.newUser("live", "Maria", "Lopez")
	step, text, location := pageSteps(t, ctx, e)

	step("open the sign-in page",
		chromedp.Navigate(e.srv.URL+"/live/login"),
		chromedp.WaitVisible(chromedp.ID("username")))
	screenshot(t, ctx, "login.png")
	step("sign in with the temporary password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), temp),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("terms-text")))
	if got := location(); got != "/live/terms" {
		t.Fatalf("after sign-in at %s, want /live/terms", got)
	}

	step("accept the terms",
		chromedp.Click(chromedp.CSS(`form[action="/live/terms"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("password-rules")))
	if h1 := text("h1"); h1 != "Choose your own password" {
		t.Errorf("password page heading %q", h1)
	}
	if rules := text("#password-rules"); !strings.Contains(rules, "8 to 50 characters") {
		t.Errorf("rules not listed before typing: %q", rules)
	}
	screenshot(t, ctx, "password-rules.png")

	step("try a weak password",
		chromedp.SendKeys(chromedp.ID("new_password"), "password"),
		chromedp.SendKeys(chromedp.ID("confirm_password"), "password"),
		chromedp.Click(chromedp.CSS(`form[action="/live/password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".violations")))
	broken := text(".violations")
	if strings.Count(strings.TrimSpace(broken), "\n") < 1 {
		t.Errorf("expected several broken rules, got %q", broken)
	}
	if summary := text(".error-summary"); summary == "" {
		t.Error("no error summary")
	}
	screenshot(t, ctx, "password-broken-rules.png")

	step("choose a good password",
		chromedp.SendKeys(chromedp.ID("new_password"), goodPassword),
		chromedp.SendKeys(chromedp.ID("confirm_password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/password"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".details")))
	if got := location(); !strings.HasPrefix(got, "/live/account") {
		t.Errorf("ended at %s, want the account page", got)
	}
	if h1 := text("h1"); !strings.Contains(h1, "Maria Lopez") {
		t.Errorf("account page heading %q lacks the user's name", h1)
	}
	screenshot(t, ctx, "account.png")

	step("open the training site",
		chromedp.Navigate(e.srv.URL+"/training/login"),
		chromedp.WaitVisible(chromedp.CSS(".training-banner")))
	if banner := text(".training-banner"); !strings.Contains(banner, "TRAINING SITE — practice only. Do not enter real client information.") {
		t.Errorf("training banner %q", banner)
	}
	screenshot(t, ctx, "training-login.png")

	// On a phone the page fits the screen: nothing to scroll sideways.
	step("view on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if !fits {
		t.Error("the sign-in page is wider than a phone screen")
	}
	screenshot(t, ctx, "training-login-phone.png")
}

// newChrome starts a headless Chromium for the test (or skips, see chromium) and returns the
// context of its one tab, which ends with the test or after 90 seconds.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	return newChromeFor(t, 90*time.Second)
}

// newChromeFor is newChrome for a test that needs the browser longer than 90 seconds.
func newChromeFor(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	exe := chromium(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, limit)
	t.Cleanup(cancel)
	return ctx
}

// pageSteps are the test's ways to drive the tab: run actions (failing the test with what it
// was doing), read an element's text, and tell the current address relative to the server.
func pageSteps(t *testing.T, ctx context.Context, e *env) (
	step func(what string, actions ...chromedp.Action[chromedp.Void]),
	text func(sel string) string,
	location func() string,
) {
	step = func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text = func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location = func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(s, e.srv.URL)
	}
	return step, text, location
}

// screenshot saves the page into $HMISAUTH_SCREENSHOTS when it is set, for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("HMISAUTH_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
