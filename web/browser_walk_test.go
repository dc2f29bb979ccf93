package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// walkWidths are the two screens every page is looked at on: a desktop and a phone (390 px,
// as an iPhone 12 to 15 is wide, with the phone's own viewport rules).
var walkWidths = []struct {
	width, height int64
	mobile        bool
}{{1280, 800, false}, {390, 844, true}}

// walker drives one tab through every page of the site. At each page, check runs axe-core
// and saves a full-page screenshot at both widths.
type walker struct {
	t   *testing.T
	ctx context.Context
	e   *env
	dir string
	// seen keeps the page names unique, so no screenshot overwrites another.
	seen map[string]bool
}

// screenshotDir is where the walk leaves its screenshots for people: $HMISAUTH_SCREENSHOTS
// (the Makefile sets it), else screenshots/ at the repository root (tests run in web/). The
// walk's own earlier screenshots are removed first, so a page that is gone leaves none behind.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HMISAUTH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range walkWidths {
		old, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("*-%d.png", w.width)))
		for _, f := range old {
			os.Remove(f)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// do runs actions, failing the test with what it was doing and where the tab was. Each step
// gets 30 seconds, so a selector that never appears fails the step, not the whole walk's clock.
func (w *walker) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		w.t.Fatalf("%s: %v\n%s", what, err, w.where())
	}
}

// where describes the tab's page for a failure message: its address and the start of its text.
func (w *walker) where() string {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(text) > 600 {
		text = text[:600] + "…"
	}
	return fmt.Sprintf("at %s:\n%s", loc, text)
}

// open loads a page and waits for the element that shows it is the page wanted.
func (w *walker) open(path, ready string) *network.Response {
	w.t.Helper()
	return w.load("open "+path, ready, func(ctx context.Context) (*network.Response, error) {
		return chromedp.Run(ctx, chromedp.NavigateResponse(w.e.srv.URL+path))
	})
}

// submit presses a form's button and waits for the page it leads to, and there for ready.
func (w *walker) submit(button, ready string) *network.Response {
	w.t.Helper()
	return w.load("press "+button, ready, func(ctx context.Context) (*network.Response, error) {
		return chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	})
}

// load runs navigate, which loads a new document and waits for it, then waits for the ready
// element, and fails on a server error: no page of the walk may answer 5xx.
func (w *walker) load(what, ready string, navigate func(context.Context) (*network.Response, error)) *network.Response {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	res, err := navigate(ctx)
	if err != nil {
		w.t.Fatalf("%s: %v\n%s", what, err, w.where())
	}
	w.do(what+": wait for "+ready, chromedp.WaitVisible(chromedp.CSS(ready)))
	if res != nil && res.Status >= 500 {
		w.t.Fatalf("%s: status %d\n%s", what, res.Status, w.where())
	}
	return res
}

// fill sets form fields by CSS selector. SetValue replaces what a field holds (the sign-in page
// keeps the username after a failure), where typing would add to it.
func (w *walker) fill(fields ...string) {
	w.t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		actions = append(actions, chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	w.do("fill "+strings.Join(fields, " "), actions...)
}

// text is an element's visible text.
func (w *walker) text(sel string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		w.t.Fatalf("text of %s: %v\n%s", sel, err, w.where())
	}
	return s
}

// attr is an element's attribute.
func (w *walker) attr(sel, name string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil || !r.Exists {
		w.t.Fatalf("%s of %s: %v\n%s", name, sel, err, w.where())
	}
	return r.Value
}

// check looks at the tab's page at each width: axe-core's WCAG 2.1 A/AA rules, no sideways
// scrolling of the page itself on the phone (WCAG 1.4.10 Reflow, which axe cannot judge: a
// wide table scrolls inside its own region instead), and a full-page screenshot saved as
// <name>-<width>.png. The viewport changes without a reload, so a page that is the answer to a
// form is looked at as it was answered, not submitted again.
func (w *walker) check(name string) {
	w.t.Helper()
	if w.seen[name] {
		w.t.Fatalf("page name %q used twice", name)
	}
	w.seen[name] = true
	for _, size := range walkWidths {
		var opts []chromedp.EmulateViewportOption
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		page := fmt.Sprintf("%s-%d", name, size.width)
		w.do(page+": resize", chromedp.EmulateViewport(size.width, size.height, opts...))
		ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
		defer cancel()
		checkAccessible(w.t, ctx, page)
		if size.mobile {
			over, err := chromedp.Run(ctx, chromedp.Evaluate[int](
				`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
			if err != nil {
				w.t.Fatal(err)
			}
			if over > 0 {
				w.t.Errorf("%s: the page is %d px wider than the phone's screen, so it scrolls sideways", page, over)
			}
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			w.t.Fatalf("%s: screenshot: %v", page, err)
		}
		if err := os.WriteFile(filepath.Join(w.dir, page+".png"), png, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	w.do(name+": back to the desktop width", chromedp.EmulateViewport(walkWidths[0].width, walkWidths[0].height))
}

// TestBrowserEveryPage walks every page of the site in one real Chromium — sign-in and its
// failures, recovery, first sign-in, the account and security pages, the helpdesk console,
// the site chooser and the missing page — and at each, at 1280 and at 390 px wide, runs
// axe-core's WCAG 2.0/2.1 A and AA rules (any violation fails the test) and leaves a
// screenshot for a person to look at (see screenshotDir).
func TestBrowserEveryPage(t *testing.T) {
	axeScript(t) // skips (or fails in CI) before anything starts when axe-core is missing
	ctx := newChromeFor(t, 5*time.Minute)
	e := newEnv(t)
	w := &walker{t: t, ctx: ctx, e: e, dir: screenshotDir(t), seen: map[string]bool{}}
	// The browser starts on the first action of a context and lives as long as that action's
	// context: start it on the walk's, before the steps' shorter ones.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()

	admin := e.activeUser("live", "Sam", "Sysop", goodPassword)
	sysadmin := string(hmisauth.RoleSysadmin)
	if _, err := e.svc.UpdateUser(context.Background(), "live", admin, auth.ProfileChange{Role: &sysadmin}); err != nil {
		t.Fatal(err)
	}
	agency := e.makeAgency("live", "North Shelter", 25)
	locked := e.activeUser("live", "Lena", "Locked", goodPassword)
	e.lockOut("live", locked)
	forgetful := e.activeUser("live", "Rita", "Reset", goodPassword)
	newcomer, temp := e.newUser("live", "Maria", "Lopez")
	app, _ := e.addApp(oidc.ClientSpec{Name: "Case Notes", HomeURL: "https://notes.example.org/",
		RedirectURIs: []string{"https://notes.example.org/callback"}})
	authorize := func(clientID string) string {
		return "/live/oidc/authorize?" + url.Values{"client_id": {clientID}, "response_type": {"code"},
			"redirect_uri": {"https://notes.example.org/callback"}, "scope": {"openid"}, "state": {"s"}}.Encode()
	}

	// Anyone, signed in or not.
	w.open("/", ".site-list")
	w.check("site-chooser")
	if res := w.open("/live/no-such-page", "h1"); res.Status != 404 {
		t.Errorf("missing page answered %d, want 404", res.Status)
	}
	w.check("not-found")
	if res := w.open(authorize("nobody"), ".error-summary"); res.Status < 400 {
		t.Errorf("an unknown application's sign-in request answered %d", res.Status)
	}
	w.check("error-unknown-application")
	w.open("/training/login", ".training-banner")
	w.check("sign-in-training")
	w.open(authorize(app.ID), "#signin-for-app")
	w.check("sign-in-for-application")
	// Forget the application's pending request, or the next sign-in would go on to it.
	w.do("clear the cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))

	// Sign-in and its failures.
	w.open("/live/login", "#username")
	w.check("sign-in")
	w.fill("#username", forgetful, "#password", "Wrong-Pass-1")
	w.submit(`form[action="/live/login"] button[type="submit"]`, ".error-summary")
	w.check("sign-in-failed")
	w.fill("#username", locked, "#password", goodPassword)
	w.submit(`form[action="/live/login"] button[type="submit"]`, ".error-summary")
	w.check("sign-in-locked")

	// Forgot password, the e-mail in the development inbox, and its link live and used.
	w.open("/live/forgot-password", "#username")
	w.check("forgot-password")
	w.fill("#username", forgetful)
	w.submit(`form[action="/live/forgot-password"] button[type="submit"]`, "#forgot-sent")
	w.check("forgot-password-sent")
	e.newMail()
	w.open("/dev/mail", ".mail-text a")
	w.check("dev-inbox")
	link := w.attr(".mail-text a", "href")
	if !strings.Contains(link, "/live/reset-password?token=") {
		t.Fatalf("newest e-mail's link %q is not a reset link", link)
	}
	w.open(strings.TrimPrefix(link, e.srv.URL), "#password-rules")
	w.check("reset-password")
	w.fill("#new_password", otherPassword, "#confirm_password", otherPassword)
	w.submit(`form[action="/live/reset-password"] button[type="submit"]`, ".notice")
	w.open(strings.TrimPrefix(link, e.srv.URL), "h1")
	w.check("reset-password-used")

	// A case worker's first sign-in with a temporary password, then their account pages.
	w.open("/live/login", "#username")
	w.fill("#username", newcomer, "#password", temp)
	w.submit(`form[action="/live/login"] button[type="submit"]`, "#terms-text")
	w.check("terms")
	w.submit(`form[action="/live/terms"] button[type="submit"]`, "#password-rules")
	w.check("password-required")
	w.fill("#new_password", "password", "#confirm_password", "password")
	w.submit(`form[action="/live/password"] button[type="submit"]`, ".error-summary")
	w.check("password-required-errors")
	w.fill("#new_password", goodPassword, "#confirm_password", goodPassword)
	w.submit(`form[action="/live/password"] button[type="submit"]`, ".details")
	w.check("account")
	w.open("/live/account/profile", "#email")
	w.check("profile")
	w.open("/live/password", "#current_password")
	w.check("password-change")
	w.open("/live/account/recovery", "#question")
	w.check("recovery-question")
	// Signing in opens the security settings for a few minutes; later they ask for the password.
	e.clock.Advance(10 * time.Minute)
	w.open("/live/account/security", "#password")
	w.check("security-reauth")
	w.fill("#password", goodPassword)
	w.submit(`form[action="/live/account/security"] button[type="submit"]`, `form[action="/live/account/security/totp"]`)
	w.check("security-settings")
	w.submit(`form[action="/live/account/security/totp"] button[type="submit"]`, "#totp-secret")
	w.check("authenticator-setup")
	secret := strings.ReplaceAll(w.text("#totp-secret"), " ", "")
	w.fill("#code", e.appCode(secret))
	w.submit(`form[action="/live/account/security/totp/confirm"] button[type="submit"]`, "#recovery-codes")
	w.check("recovery-codes")
	w.open("/live/account/sessions", "#sessions")
	w.check("sessions")
	w.open("/live/admin/", "h1")
	w.check("console-refused")
	w.open("/live/logout", `form[action="/live/logout"]`)
	w.check("sign-out-confirmation")
	w.submit(`form[action="/live/logout"] button[type="submit"]`, ".notice")
	w.check("signed-out")
	w.fill("#username", newcomer, "#password", goodPassword)
	w.submit(`form[action="/live/login"] button[type="submit"]`, "#code")
	w.check("sign-in-code")

	// The helpdesk console, as a system administrator.
	w.open("/live/login", "#username")
	w.fill("#username", admin, "#password", goodPassword)
	w.submit(`form[action="/live/login"] button[type="submit"]`, `form[action="/live/logout"]`)
	w.open("/live/admin/", "h1")
	w.check("console-home")
	w.open("/live/admin/users", ".admin-table")
	w.check("console-users")
	userPage := "/live/admin/users/" + locked
	w.open(userPage, `form[action="`+userPage+`/temporary-password"]`)
	w.check("console-user")
	w.submit(`form[action="`+userPage+`/temporary-password"] button[type="submit"]`, "#temp-password")
	w.check("console-temporary-password")
	w.open(userPage+"/disable", `form[action="`+userPage+`/disable"]`)
	w.check("console-disable-confirmation")
	w.open(userPage+"/end-sessions", `form[action="`+userPage+`/end-sessions"]`)
	w.check("console-end-sessions-confirmation")
	if res := w.open("/live/admin/users/nobody", ".error-summary"); res.Status != 404 {
		t.Errorf("a missing user's page answered %d, want 404", res.Status)
	}
	w.check("console-user-not-found")
	w.open("/live/admin/users/new", "#first")
	w.check("console-new-user")
	w.fill("#first", "Ana", "#last", "Ruiz", "#email", "ana@agency.example.org")
	w.submit(`form[action="/live/admin/users/new"] button[value="preview"]`, "#username")
	w.check("console-new-user-username")
	w.submit(`form[action="/live/admin/users/new"] button[value="create"]`, "#temp-password")
	w.check("console-new-user-created")
	w.open("/live/admin/agencies", ".admin-table")
	w.check("console-agencies")
	w.open(fmt.Sprintf("/live/admin/agencies/%d", agency.ID), "#seats")
	w.check("console-agency")
	w.open("/live/admin/audit", "h1")
	w.check("console-audit")
	w.open("/live/admin/reports", "h1")
	w.check("console-reports")
	w.open("/live/admin/import", "#file")
	w.check("console-import")
	csv := filepath.Join(t.TempDir(), "new-users.csv")
	if err := os.WriteFile(csv, []byte("first,last,email,agency,role\nIvy,Import,ivy@agency.example.org,North Shelter,user\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.do("choose the CSV file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{csv}))
	w.submit(`form[action="/live/admin/import"] input[value="preview"] ~ button[type="submit"]`, "#preview-heading")
	w.check("console-import-preview")
	w.submit(`form[action="/live/admin/import"] input[value="create"] ~ button[type="submit"]`, "#created")
	w.check("console-import-created")
	w.open("/live/admin/clients", "#name")
	w.check("console-clients")
	w.fill("#name", "Bed Board", "#redirect_uri", "https://beds.example.org/callback")
	w.submit(`form[action="/live/admin/clients"] button[type="submit"]`, "#client-secret")
	w.check("console-client-secret")
	clientPage := w.attr(`main a[href^="/live/admin/clients/"]`, "href")
	w.open(clientPage, "#client-id")
	w.check("console-client")
	w.open(clientPage+"/remove", "h1")
	w.check("console-client-remove")

	t.Logf("walked %d pages at %d widths in %s; screenshots in %s", len(w.seen), len(walkWidths),
		time.Since(start).Round(time.Second), w.dir)
}
