package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth/auth"
)

func TestForgotPasswordPageAsksForTheUsername(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/live/login").wantText(`href="/live/forgot-password">Forgot password?</a>`)
	b.get("/live/forgot-password").wantText("Forgot your password?", `<label for="username">`,
		"Your username is usually your first initial and last name, like jdoe",
		`aria-describedby="username-hint"`, `action="/live/forgot-password"`, "mailto:"+helpdeskEmail).
		lackText(`type="email"`)

	r := b.post("/live/forgot-password", url.Values{"username": {""}})
	if r.Status != 400 {
		t.Errorf("empty username: status %d", r.Status)
	}
	r.wantText(`id="username-error"`, `aria-invalid="true"`, `href="#username"`, "Enter your username.")
	b.post("/live/forgot-password", url.Values{"username": {strings.Repeat("x", 65)}}).wantText(`id="username-error"`)

	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	r = b.post("/live/forgot-password", url.Values{"username": {username}})
	if r.Status != 200 {
		t.Errorf("status %d", r.Status)
	}
	r.wantText("Check your e-mail",
		"If HMIS Live has an account with that username and an e-mail address on file, we have\n  sent a link to reset the password.",
		"It can take a few minutes. Check your spam or junk folder", "The link works for 15 minutes",
		"Not received it? Contact the helpdesk", "mailto:"+helpdeskEmail, helpdeskPhone).lackText(username)
	ghost := b.post("/live/forgot-password", url.Values{"username": {"nosuchuser"}})
	if ghost.Status != r.Status || !bytes.Equal(ghost.Body, r.Body) {
		t.Error("the confirmation differs for an unknown username")
	}
	if m := e.oneMail(); m.To != "jane@agency.example.org" {
		t.Errorf("e-mail to %s", m.To)
	}
}

func TestResetPasswordPages(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.post("/live/forgot-password", url.Values{"username": {username}})
	link, token := e.resetLink(e.oneMail())
	path := strings.TrimPrefix(link, e.srv.URL)

	r := b.get(path)
	r.wantText("Reset the password for "+username+" on HMIS Live", "This link works until 9:15 AM CST",
		`id="password-rules"`, "8 to 50 characters", `action="/live/reset-password"`,
		`<input type="hidden" name="token" value="`+token+`">`, `<label for="new_password">`, `<label for="confirm_password">`).
		lackText(`name="security_answer"`)
	// The token is in the hidden field only: no link, form action or other address carries it.
	if n := strings.Count(r.text(), token); n != 1 {
		t.Errorf("the token appears %d times on the page", n)
	}
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}

	form := func(pw, confirm string) url.Values {
		return url.Values{"token": {token}, "new_password": {pw}, "confirm_password": {confirm}}
	}
	r = b.post("/live/reset-password", form("password", "password"))
	if r.Status != 400 {
		t.Errorf("weak password: status %d", r.Status)
	}
	r.wantPath("/live/reset-password").wantText(`class="violations"`, `data-rule="upper"`, `data-rule="digit"`,
		`data-rule="symbol"`, `data-rule="common"`, `aria-invalid="true"`, `href="#new_password"`,
		`<input type="hidden" name="token" value="`+token+`">`)
	b.post("/live/reset-password", form(otherPassword, goodPassword)).wantText(`id="confirm_password-error"`)
	b.post("/live/reset-password", form(goodPassword, goodPassword)).wantText("You have used this password before")

	noFollow := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest("POST", e.srv.URL+"/live/reset-password", strings.NewReader(form(otherPassword, otherPassword).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = e.do(noFollow, req)
	if r.Status != 303 || r.Header.Get("Location") != "/live/login?notice=password_reset" || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("success: %d to %q, cookie %q", r.Status, r.Header.Get("Location"), r.Header.Get("Set-Cookie"))
	}
	b.get("/live/login?notice=password_reset").wantText("Your password was reset. Sign in with your new password.")
	b.post("/live/login", url.Values{"username": {username}, "password": {otherPassword}}).wantPath("/live/account")

	// Used up: the page says so plainly and offers a new link.
	r = b.get(path)
	if r.Status != 410 {
		t.Errorf("used link: status %d", r.Status)
	}
	r.wantText("This reset link no longer works: it was already used, it expired,\nor a newer link was sent.",
		`href="/live/forgot-password">Ask for a new link</a>`, `href="/live/login">Sign in</a>`).lackText(`name="new_password"`, token)
	if r := b.post("/live/reset-password", form("Third-Choice-88x", "Third-Choice-88x")); r.Status != 410 {
		t.Errorf("used link posted: status %d", r.Status)
	}
	b.get("/live/reset-password").wantText("This reset link no longer works")
	if strings.Contains(e.logs.String(), token) {
		t.Error("the log contains the reset token")
	}
}

func TestProfilePage(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).
		wantText(`href="/live/account/profile">Change your contact details</a>`)
	b.get("/live/account/profile").wantText("Your contact details", `<label for="email">`, `<label for="phone">`,
		`value="jane@agency.example.org"`, `action="/live/account/profile"`)

	r := b.post("/live/account/profile", url.Values{"email": {"not an address"}, "phone": {""}})
	if r.Status != 400 {
		t.Errorf("bad e-mail: status %d", r.Status)
	}
	r.wantText(`id="email-error"`, `href="#email"`, `value="not an address"`)

	b.post("/live/account/profile", url.Values{"email": {"jane@agency.example.org"}, "phone": {"555-0142"}}).
		wantPath("/live/account").wantText("Your contact details were saved.", "555-0142").lackText("old address")
	if msgs := e.newMail(); len(msgs) != 0 {
		t.Errorf("an unchanged e-mail address sent %d e-mails", len(msgs))
	}
	b.post("/live/account/profile", url.Values{"email": {"jane.doe@shelter.example.org"}}).
		wantPath("/live/account").wantText("Your contact details were saved. A notice was sent to your old address.",
		"jane.doe@shelter.example.org", "555-0142")
	if m := e.oneMail(); m.To != "jane@agency.example.org" {
		t.Errorf("the notice went to %s", m.To)
	}
}

func TestAccountWithoutEmailOffersToAddOne(t *testing.T) {
	e := newEnv(t)
	c, err := e.svc.CreateUser(context.Background(), auth.NewUser{Site: "live", FirstName: "Ann", LastName: "Lee"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.post("/live/login", url.Values{"username": {c.User.Username}, "password": {c.TemporaryPassword}})
	b.post("/live/terms", url.Values{"version": {"1"}})
	b.post("/live/password", url.Values{"new_password": {goodPassword}, "confirm_password": {goodPassword}}).
		wantPath("/live/account").wantText("None on file, so we cannot e-mail you a reset link.",
		`href="/live/account/profile">Add your e-mail address</a>`)
	b.post("/live/account/profile", url.Values{"email": {"ann.lee@agency.example.org"}}).wantPath("/live/account").
		wantText("Your contact details were saved.", "ann.lee@agency.example.org").lackText("old address")
	if msgs := e.newMail(); len(msgs) != 0 {
		t.Errorf("adding a first address sent %d e-mails", len(msgs))
	}
}

func TestAccountWarnsBeforeThePasswordExpires(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).
		wantPath("/live/account").lackText(`id="password-warning"`)
	// max_age_days 45, warn_days 7: on day 40 the password has 5 days left.
	e.clock.Advance(40 * 24 * time.Hour)
	b = e.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account").
		wantText(`id="password-warning"`, "Your password expires on Thursday, April 16, 2026 (in 5 days);",
			`<a href="/live/password">change it now</a>`)
}

func TestAccountPagesNeedASession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, path := range []string{"/live/account/profile", "/live/account/recovery"} {
		b.get(path).wantPath("/live/login").wantText("Please sign in first.")
	}
	if r := b.post("/live/account/profile", url.Values{"email": {"a@b.org"}}); r.URL.Path != "/live/login" {
		t.Errorf("signed-out profile post ended at %s", r.URL.Path)
	}
}
