package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// cellBox is where a table cell lies across the viewport, and how wide the page is.
type cellBox struct {
	ScrollWidth float64 `json:"scrollWidth"`
	Cells       []struct {
		Left  float64 `json:"left"`
		Right float64 `json:"right"`
		Text  string  `json:"text"`
	} `json:"cells"`
}

// TestBrowserUsersTableFitsAPhone: on a 390-px phone the users list has no sideways scroll,
// and each row's "Problems" lies wholly on the screen; on a 1280-px screen the user page's
// detail labels each keep to one line. Screenshots of both sizes are left for people to see.
func TestBrowserUsersTableFitsAPhone(t *testing.T) {
	ctx := newChrome(t)
	w := newAdminWorld(t)
	// A user with many problems and long words, the widest row the list shows.
	long := w.makeUser("live", "Maximiliana", "Bartholomew-Featherstonehaugh", "", "user", southName).User.Username
	w.lockOut("live", long)
	if _, err := w.svc.SetDisabled(setupCtx(), "live", long, true); err != nil {
		t.Fatal(err)
	}
	fine, _ := w.signedIn("live", "Olga", "Okay", "user", northName)
	step, text, _ := pageSteps(t, ctx, w.env)

	step("sign in as the sysadmin",
		chromedp.Navigate(w.srv.URL+"/live/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), w.sysName),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/live/logout"]`)))

	step("open the users list at 1280 px",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(w.srv.URL+"/live/admin/users"),
		chromedp.WaitVisible(chromedp.ID("users")))
	screenshot(t, ctx, "console-users-1280.png")
	step("open a user with no problems at 1280 px",
		chromedp.Navigate(w.srv.URL+"/live/admin/users/"+fine),
		chromedp.WaitVisible(chromedp.ID("answer")))
	if got := text("#answer"); got != "Yes, Olga can sign in" {
		t.Errorf("answer %q", got)
	}
	// Each label of the summary list is one line: its text makes one box.
	wrapped, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.summary-list dt')].filter(dt => {
		const r = document.createRange(); r.selectNodeContents(dt); return r.getClientRects().length !== 1;
	}).map(dt => dt.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(wrapped) > 0 {
		t.Errorf("detail labels wrap at 1280 px: %q", wrapped)
	}
	screenshot(t, ctx, "console-user-0-problems-1280.png")
	step("open a user with two problems at 1280 px",
		chromedp.Navigate(w.srv.URL+"/live/admin/users/"+long),
		chromedp.WaitVisible(chromedp.ID("answer")))
	if got := text("#answer"); got != "No — 2 problems" {
		t.Errorf("answer %q", got)
	}
	screenshot(t, ctx, "console-user-2-problems-1280.png")

	step("open the users list on a 390-px phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile),
		chromedp.Navigate(w.srv.URL+"/live/admin/users"),
		chromedp.WaitVisible(chromedp.ID("users")))
	box, err := chromedp.Run(ctx, chromedp.Evaluate[cellBox](`({
		scrollWidth: document.documentElement.scrollWidth,
		cells: [...document.querySelectorAll('#users td[data-label="Problems"]')].map(c => {
			const b = c.getBoundingClientRect(); return {left: b.left, right: b.right, text: c.textContent};
		})})`))
	if err != nil {
		t.Fatal(err)
	}
	if n := sidewaysTables(t, ctx); n != 0 {
		t.Errorf("the users list scrolls sideways inside the page (%d tables)", n)
	}
	if box.ScrollWidth > 390 {
		t.Errorf("the users list is %v px wide on a 390-px phone: it scrolls sideways", box.ScrollWidth)
	}
	if len(box.Cells) < 2 {
		t.Fatalf("%d Problems cells, want a row per user", len(box.Cells))
	}
	for _, c := range box.Cells {
		if c.Left < 0 || c.Right > 390 {
			t.Errorf("Problems %q lies at %v–%v px, outside the 390-px screen", c.Text, c.Left, c.Right)
		}
	}
	// The column's name is shown beside each cell, since the header row is not.
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('#users td[data-label="Problems"]'), '::before').content`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%q", "Problems"); label != want && label != want+` / ""` {
		t.Errorf("the Problems cell's label is %s, want %s", label, want)
	}
	screenshot(t, ctx, "console-users-390.png")

	for _, u := range []struct{ name, file string }{{fine, "console-user-0-problems-390.png"}, {long, "console-user-2-problems-390.png"}} {
		step("open "+u.name+" at 390 px",
			chromedp.Navigate(w.srv.URL+"/live/admin/users/"+u.name),
			chromedp.WaitVisible(chromedp.ID("answer")))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > 390 {
			t.Errorf("%s's page is %v px wide on a 390-px phone", u.name, width)
		}
		// Nor does a table scroll sideways inside the page (its sessions).
		if n := sidewaysTables(t, ctx); n != 0 {
			t.Errorf("%s's page has %d tables that scroll sideways on a 390-px phone", u.name, n)
		}
		screenshot(t, ctx, u.file)
	}
}

// sidewaysTables counts the page's table boxes whose content is wider than they are.
func sidewaysTables(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`[...document.querySelectorAll('.table-wrap')].filter(e => e.scrollWidth > e.clientWidth).length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
