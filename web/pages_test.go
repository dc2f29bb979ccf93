package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth/web"
)

const trainingBanner = "TRAINING SITE</strong> — practice only. Do not enter real client information."

func TestLoginPageIsLabelledAndNamesTheSite(t *testing.T) {
	e := newEnv(t)
	r := e.browser().get("/live/login")
	if r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
	r.wantText(`<html lang="en">`, `name="viewport"`, `class="skip-link" href="#main"`, `id="main"`,
		`<label for="username">`, `id="username"`, `<label for="password">`, `id="password"`,
		`autocomplete="current-password"`, "Sign in to HMIS Live",
		`href="/live/forgot-password">Forgot password?</a>`, helpdeskEmail, helpdeskPhone,
		`<script src="/static/signin.js?v=`)
	// Scripts only as files (the Content-Security-Policy allows no inline script or style).
	r.lackText("TRAINING", "<script>", "style=")

	tr := e.browser().get("/training/login")
	tr.wantText(trainingBanner, `class="training"`, "Sign in to HMIS Training")
}

func TestEveryLabelPointsAtAnInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	username, temp := e.newUser("training", "Jane", "Doe")
	b.post("/training/login", url.Values{"username": {username}, "password": {temp}})
	b.post("/training/terms", url.Values{"version": {"1"}})
	for _, r := range []*response{b.get("/training/login"), b.get("/training/password"),
		b.post("/training/password", url.Values{"new_password": {"password"}, "confirm_password": {"password"}})} {
		page := r.text()
		if !strings.Contains(page, trainingBanner) {
			t.Errorf("%s: no training banner", r.URL.Path)
		}
		for _, part := range strings.Split(page, `<label for="`)[1:] {
			id := part[:strings.IndexByte(part, '"')]
			if !strings.Contains(page, `id="`+id+`"`) {
				t.Errorf("%s: label for %q has no input", r.URL.Path, id)
			}
		}
	}
}

func TestIndexAndUnknownSiteListTheSites(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/").wantText(`href="/live/login"`, `href="/training/login"`, "HMIS Live", "HMIS Training")
	r := b.get("/nosuch/login")
	if r.Status != 404 {
		t.Errorf("unknown site: status %d", r.Status)
	}
	r.wantText("There is no site called “nosuch”", `href="/live/login"`, `href="/training/login"`)
	if r := b.get("/live/no-such-page"); r.Status != 404 {
		t.Errorf("unknown page: status %d", r.Status)
	}
	b.get("/live").wantPath("/live/login")
}

func TestFirstSignInWithForms(t *testing.T) {
	e := newEnv(t)
	username, temp := e.newUser("live", "Jane", "Doe")
	b := e.browser()

	r := b.post("/live/login", url.Values{"username": {username}, "password": {temp}}).wantPath("/live/terms")
	r.wantText("Terms of Agreement", "Keep client information confidential.", `name="version" value="1"`, "I accept")

	// While the terms are pending, every signed-in page leads back to them.
	b.get("/live/account").wantPath("/live/terms")
	b.get("/live/password").wantPath("/live/terms")

	r = b.post("/live/terms", url.Values{"version": {"1"}}).wantPath("/live/password")
	r.wantText("Choose your own password", "Rules for your new password", "8 to 50 characters",
		`autocomplete="new-password"`, `<label for="new_password">`, `<label for="confirm_password">`)
	r.lackText(`id="current_password"`, "Password has expired!")
	b.get("/live/account").wantPath("/live/password")
	b.get("/live/terms").wantPath("/live/password")

	r = b.post("/live/password", url.Values{"new_password": {"password"}, "confirm_password": {"password"}})
	if r.Status != 400 {
		t.Errorf("weak password: status %d", r.Status)
	}
	r.wantPath("/live/password").wantText(`role="alert"`, `class="violations"`, `aria-invalid="true"`,
		`aria-describedby="new_password-error password-rules"`, `href="#new_password"`)

	r = b.post("/live/password", url.Values{"new_password": {goodPassword}, "confirm_password": {otherPassword}})
	r.wantText(`id="confirm_password-error"`, `aria-describedby="confirm_password-error"`)

	r = b.post("/live/password", url.Values{"new_password": {goodPassword}, "confirm_password": {goodPassword}})
	r.wantPath("/live/account").wantText("Jane Doe", username, "HMIS Live", "jane@agency.example.org",
		"Your new password is saved.", "this session ends at", "or after 30 minutes without activity",
		"Your password expires on", `action="/live/logout"`)
	// 15:00 UTC is 9:00 AM in Chicago; the session lasts 12 hours.
	r.wantText("9:00 PM CST")

	b.get("/live/terms").wantText("You have accepted version 1").lackText("I accept")
	b.get("/live/password").wantText("Change your password", `id="current_password"`)

	r = b.post("/live/logout", nil).wantPath("/live/login").wantText("You are signed out.")
	b.get("/live/account").wantPath("/live/login").wantText("Please sign in first.")
}

func TestFailedFormLoginSaysLoginFailed(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	r := b.post("/live/login", url.Values{"username": {username}, "password": {"Wrong-Pass-1"}})
	if r.Status != 401 {
		t.Errorf("status %d", r.Status)
	}
	r.wantPath("/live/login").wantText("Login failed!", `value="`+username+`"`).lackText("Wrong-Pass-1")

	r = b.post("/live/login", url.Values{"username": {""}, "password": {"x"}})
	r.wantText(`id="username-error"`, `aria-invalid="true"`, `href="#username"`)

	b.post("/live/login", url.Values{"username": {username}, "password": {"Wrong-Pass-1"}})
	r = b.post("/live/login", url.Values{"username": {username}, "password": {"Wrong-Pass-1"}})
	if r.Status != 423 {
		t.Errorf("locked: status %d", r.Status)
	}
	r.wantText("locked", helpdeskEmail)
}

func TestTimedOutPageSessionSaysSo(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
	b.get("/live/login").wantPath("/live/account") // already signed in
	e.clock.Advance(31 * time.Minute)
	b.get("/live/account").wantPath("/live/login").wantText("Your session timed out. Please sign in again.")
	b.get("/live/account").wantText("Please sign in first.") // the cookie is gone
}

func TestSessionEndedByTheHelpdeskAsksToSignIn(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
	if _, err := e.svc.SetTemporaryPassword(context.Background(), "live", username); err != nil {
		t.Fatal(err)
	}
	r := b.get("/live/account").wantPath("/live/login").wantText("You were signed out because your password was changed.")
	if strings.Contains(r.text(), "timed out") {
		t.Fatal("a session the helpdesk ended is not a time-out")
	}
}

func TestExpiredPasswordPage(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.clock.Advance(46 * 24 * time.Hour)
	b := e.browser()
	r := b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/password")
	r.wantText("Password has expired!").lackText(`id="current_password"`)
	r = b.post("/live/password", url.Values{"new_password": {goodPassword}, "confirm_password": {goodPassword}})
	r.wantText("You have used this password before")
}

func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(o *web.Options) { o.Secure = secure })
		username := e.activeUser("live", "Jane", "Doe", goodPassword)
		req, err := http.NewRequest("POST", e.srv.URL+"/live/login",
			strings.NewReader(url.Values{"username": {username}, "password": {goodPassword}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r := e.do(noFollow, req)
		if r.Status != 303 || r.Header.Get("Location") != "/live/account" {
			t.Fatalf("secure=%v: %d to %q", secure, r.Status, r.Header.Get("Location"))
		}
		cookie := r.Header.Get("Set-Cookie")
		name := "hmisauth_live="
		if secure {
			name = "__Host-hmisauth_live="
		}
		for _, want := range []string{name, "Path=/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("secure=%v: cookie %q lacks %q", secure, cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") != secure {
			t.Errorf("secure=%v: cookie %q", secure, cookie)
		}
		if strings.Contains(cookie, "Max-Age") || strings.Contains(cookie, "Expires") || strings.Contains(cookie, "Domain") {
			t.Errorf("cookie outlives the browser or leaves the host: %q", cookie)
		}
		if got := r.Header.Get("Strict-Transport-Security"); (got != "") != secure {
			t.Errorf("secure=%v: HSTS %q", secure, got)
		}
	}
}

func TestCookieWorksForTheAPI(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}})
	req, err := http.NewRequest("GET", e.srv.URL+"/api/v1/sites/live/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.expect(e.do(b.c, req), 200, "")
	req, err = http.NewRequest("GET", e.srv.URL+"/api/v1/sites/training/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.expect(e.do(b.c, req), 401, "unauthorized")
}

func TestStylesheetIsServedAndCached(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	page := b.get("/live/login").text()
	i := strings.Index(page, `href="/static/style.css?v=`)
	if i < 0 {
		t.Fatal("no versioned stylesheet link")
	}
	href := page[i+len(`href="`):]
	href = strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
	r := b.get(href)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("stylesheet Cache-Control %q", cc)
	}
	if r := b.get("/static/"); r.Status != 404 {
		t.Errorf("static directory listing: %d", r.Status)
	}
}
