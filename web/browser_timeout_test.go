package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserWarnsBeforeTheSessionTimesOut runs the time-out warning (static/timeout.js) in
// real Chromium on a site whose idle time is 4 seconds, so the warning shows 2 seconds after
// a page loads (half the idle time, as for any idle time under four minutes). The server's
// clock is the test's: it moves only when the test moves it, while the script counts real
// seconds from the instants the page gives it.
func TestBrowserWarnsBeforeTheSessionTimesOut(t *testing.T) {
	ctx := newChrome(t)
	sites := testSites()
	sites[0].Policy.Session.Idle = 4 * time.Second
	e := newEnvSites(t, sites)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	step, text, location := pageSteps(t, ctx, e)
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	noRefresh := func() {
		t.Helper()
		if got := eval(`String(!!document.querySelector('meta[http-equiv="refresh" i]'))`); got != "false" {
			t.Errorf("%s has a refresh meta tag", location())
		}
	}
	// stillSignedIn asks the server for the account page as the page's own script would.
	stillSignedIn := func(when string) {
		t.Helper()
		if got := eval(`fetch('/live/account').then(r => r.url.replace(location.origin, '') + ' ' + r.status)`); got != "/live/account 200" {
			t.Fatalf("%s: the account page answered %q; the session did not stay", when, got)
		}
	}
	// dialog is the open dialog's accessible role and name, and where the focus is.
	dialog := func() (role, name, focus string) {
		t.Helper()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.ID("timeout-dialog")))
		if err != nil {
			t.Fatal(err)
		}
		ax, err := chromedp.Run(ctx, chromedp.Action[*accessibility.GetPartialAXTreeResult](
			func(ctx context.Context, tg *chromedp.Target) (*accessibility.GetPartialAXTreeResult, error) {
				res, err := cdp.Call(ctx, tg, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{
					BackendNodeID: nodes[0].BackendNodeID, FetchRelatives: new(bool)})
				return &res, err
			}))
		if err != nil || len(ax.Nodes) == 0 || ax.Nodes[0].Role == nil || ax.Nodes[0].Name == nil {
			t.Fatalf("no accessibility node for the dialog: %v", err)
		}
		json.Unmarshal(ax.Nodes[0].Role.Value, &role)
		json.Unmarshal(ax.Nodes[0].Name.Value, &name)
		focus = eval(`(document.getElementById('timeout-dialog').contains(document.activeElement) ? 'inside: ' : 'outside: ') +
			(document.activeElement.id || document.activeElement.tagName)`)
		return role, name, focus
	}
	checkDialog := func(wantName, wantFocus string) {
		t.Helper()
		if modal := eval(`String(document.getElementById('timeout-dialog').matches(':modal'))`); modal != "true" {
			t.Errorf("the dialog is not modal")
		}
		role, name, focus := dialog()
		if role != "dialog" || name != wantName || focus != "inside: "+wantFocus {
			t.Errorf("dialog: role %q, name %q, focus %s; want dialog %q with the focus on %s", role, name, focus, wantName, wantFocus)
		}
	}

	step("sign in",
		chromedp.Navigate(e.srv.URL+"/live/login"),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("session-timeout")))
	noRefresh()
	loaded := time.Now()
	step("open the contact details", chromedp.Navigate(e.srv.URL+"/live/account/profile"), chromedp.WaitVisible(chromedp.ID("phone")))
	noRefresh()
	if got := eval(`String(document.getElementById('timeout-dialog').open)`); got != "false" {
		t.Fatal("the warning shows as the page opens")
	}

	// The first warning: Escape means "stay".
	step("wait for the warning", chromedp.WaitVisible(chromedp.ID("timeout-stay")))
	if waited := time.Since(loaded); waited < 1500*time.Millisecond {
		t.Errorf("the warning came %s after the page loaded, want about 2 s", waited)
	}
	checkDialog("You will be signed out soon", "timeout-stay")
	if got := text("#timeout-idle-text"); !strings.Contains(got, "you will be signed out at 9:00 AM CST") {
		t.Errorf("the warning says %q", got)
	}
	e.clock.Advance(3 * time.Second)
	// The page's instants move once the server has answered.
	step("press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("timeout-dialog")),
		chromedp.WaitReady(chromedp.CSS(`#session-timeout[data-idle-at="2026-03-02T15:00:07.000Z"]`)))
	e.clock.Advance(2 * time.Second) // past the deadline the page was loaded with
	stillSignedIn("after Escape")

	// The second: "Stay signed in".
	step("wait for the next warning", chromedp.WaitVisible(chromedp.ID("timeout-stay")))
	e.clock.Advance(1 * time.Second)
	step("stay signed in", chromedp.Click(chromedp.ID("timeout-stay")), chromedp.WaitNotVisible(chromedp.ID("timeout-dialog")),
		chromedp.WaitReady(chromedp.CSS(`#session-timeout[data-idle-at="2026-03-02T15:00:10.000Z"]`)))
	e.clock.Advance(2 * time.Second) // past the deadline before the click
	stillSignedIn("after Stay signed in")
	if got := text("#session-timeout"); !strings.HasPrefix(got, "Signed in as "+username+". This session times out at 9:00 AM CST") {
		t.Errorf("the time-out line after staying: %q", got)
	}

	// The third, with something typed and unsaved: nothing is done, the session ends, and the
	// page stays, so what was typed can be copied.
	step("type a phone number", chromedp.SendKeys(chromedp.ID("phone"), "555-0142"))
	step("wait for the last warning", chromedp.WaitVisible(chromedp.ID("timeout-stay")))
	// axe-core over the page with the warning open (in a subtest, which alone is skipped on a
	// machine without axe-core). The unsaved typing keeps the page here if it takes long.
	t.Run("axe-warning", func(t *testing.T) { checkAccessible(t, ctx, "timeout warning") })
	e.clock.Advance(3 * time.Second) // the server times the session out
	step("wait for the end", chromedp.WaitVisible(chromedp.ID("timeout-signin")))
	checkDialog("Your session has ended", "timeout-signin")
	t.Run("axe-ended", func(t *testing.T) { checkAccessible(t, ctx, "session ended") })
	if got := text("#timeout-kept"); !strings.Contains(got, "What you typed is still on this page") {
		t.Errorf("the ended dialog says %q about the typing", got)
	}
	screenshot(t, ctx, "timeout-ended.png")
	step("wait", chromedp.Sleep(2500*time.Millisecond))
	if got := location(); got != "/live/account/profile" {
		t.Fatalf("with unsaved typing the page went to %s", got)
	}
	if got := eval(`document.getElementById('phone').value`); got != "555-0142" {
		t.Errorf("the typed phone number is now %q", got)
	}
	step("close the dialog and save anyway",
		chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("timeout-dialog")),
		chromedp.Click(chromedp.CSS(`form[action="/live/account/profile"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	if got, notice := location(), text(".notice"); got != "/live/login?notice=timeout" || notice != "Your session timed out. Please sign in again." {
		t.Errorf("saving after the time-out: at %s, %q", got, notice)
	}

	// Nothing typed, nothing done: at the end the page goes to the sign-in page, which says why.
	step("sign in again",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("session-timeout")))
	noRefresh()
	step("wait for the warning", chromedp.WaitVisible(chromedp.ID("timeout-stay")))
	e.clock.Advance(5 * time.Second)
	// Here a slow screenshot costs nothing: the server has timed the session out already.
	screenshot(t, ctx, "timeout-warning.png")
	step("wait for the sign-in page", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got, notice := location(), text(".notice"); got != "/live/login?notice=timeout" || notice != "Your session timed out. Please sign in again." {
		t.Errorf("after the time-out: at %s, %q", got, notice)
	}
}

// Near the absolute end the warning offers no "Stay signed in": that end cannot move. Its
// "Sign out" signs out. Here a session lasts 4 seconds at most.
func TestBrowserSaysTheAbsoluteEndCannotBeMoved(t *testing.T) {
	ctx := newChrome(t)
	sites := testSites()
	sites[0].Policy.Session.Idle, sites[0].Policy.Session.Absolute = 4*time.Second, 4*time.Second
	e := newEnvSites(t, sites)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	step, text, location := pageSteps(t, ctx, e)
	step("sign in",
		chromedp.Navigate(e.srv.URL+"/live/login"),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("session-timeout")),
		chromedp.WaitVisible(chromedp.ID("timeout-continue")))
	t.Run("axe", func(t *testing.T) { checkAccessible(t, ctx, "absolute end warning") })
	if got := text("#timeout-end-text"); !strings.Contains(got, "a session lasts at most 4 seconds") ||
		!strings.Contains(got, "It cannot be extended") {
		t.Errorf("the warning near the absolute end says %q", got)
	}
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById('timeout-stay').offsetParent`))
	if err != nil || visible {
		t.Errorf("Stay signed in is offered near the absolute end (%v)", err)
	}
	step("continue working", chromedp.Click(chromedp.ID("timeout-continue")), chromedp.WaitNotVisible(chromedp.ID("timeout-dialog")))

	// On the next page, sign out from the warning.
	step("open the account page again", chromedp.Navigate(e.srv.URL+"/live/account"), chromedp.WaitVisible(chromedp.ID("timeout-continue")))
	step("sign out", chromedp.Click(chromedp.CSS(`#timeout-end .timeout-signout`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got, notice := location(), text(".notice"); got != "/live/login?notice=signed_out" || !strings.HasPrefix(notice, "You are signed out.") {
		t.Errorf("signing out from the warning: at %s, %q", got, notice)
	}
}
