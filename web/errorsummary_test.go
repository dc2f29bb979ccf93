package web_test

// Errors follow the pattern people know (GOV.UK, USWDS): a summary first after the heading,
// titled "There is a problem", each item linking to its field, the page title starting with
// "Error:", and every empty required field flagged at once.

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// wantErrorSummary checks that a refused form follows the pattern: status 400, "Error:" in the
// title, the summary straight after the h1 with its heading, and for each field its link in
// the summary and its message next to it.
func (r *response) wantErrorSummary(title string, fields ...string) *response {
	r.t.Helper()
	if r.Status != 400 {
		r.t.Errorf("%s: status %d, want 400", r.URL.Path, r.Status)
	}
	r.wantText("<title>Error: "+title, `<div class="error-summary" id="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">`,
		`<h2 class="error-summary-title" id="error-summary-title">There is a problem</h2>`,
		`<script src="/static/forms.js?v=`) // moves focus to the summary
	page := r.text()
	h1 := strings.Index(page, "</h1>")
	if summary := strings.Index(page, `class="error-summary"`); h1 < 0 || summary < h1 || strings.Contains(page[h1:summary], "<p") {
		r.t.Errorf("%s: the error summary is not the first thing after the h1", r.URL.Path)
	}
	for _, f := range fields {
		r.wantText(`<a href="#`+f+`">`, `id="`+f+`-error"`)
	}
	return r
}

func TestEmptySignInFlagsBothFields(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/live/login").lackText("<title>Error:", "There is a problem", "forms.js")
	r := b.post("/live/login", url.Values{"username": {""}, "password": {""}})
	r.wantErrorSummary("Sign in", "username", "password").wantText("Enter your username.", "Enter your password.")
	// One empty field flags just that one, and keeps what was typed.
	r = b.post("/live/login", url.Values{"username": {"jdoe"}, "password": {""}})
	r.wantErrorSummary("Sign in", "password").wantText(`value="jdoe"`).lackText(`id="username-error"`)
	// Nothing was tried, so nothing was counted.
	r = b.post("/live/login", url.Values{"username": {"jdoe"}, "password": {"Wrong-Pass-1"}})
	r.wantText("You have 2 more tries before the account locks.")
}

func TestEmptyFormsFlagEveryRequiredField(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()

	b.post("/live/forgot-password", url.Values{"username": {""}}).wantErrorSummary("Forgot password", "username")

	b.post("/live/forgot-password", url.Values{"username": {username}})
	link, token := e.resetLink(e.oneMail())
	b.get(strings.TrimPrefix(link, e.srv.URL)).lackText("<title>Error:")
	r := b.post("/live/reset-password", url.Values{"token": {token}, "new_password": {""}, "confirm_password": {""}})
	r.wantErrorSummary("Choose a new password", "new_password", "confirm_password").
		wantText("Enter a new password.", "Type the new password again.")

	b.signIn("live", username, goodPassword).wantPath("/live/account")
	b.get("/live/password").lackText("<title>Error:")
	// Just after signing in the password was typed moments ago: the current one is not needed.
	r = b.post("/live/password", url.Values{"current_password": {""}, "new_password": {""}, "confirm_password": {""}})
	r.wantErrorSummary("Change your password", "new_password", "confirm_password").lackText(`<a href="#current_password">`)
	e.clock.Advance(10 * time.Minute)
	r = b.post("/live/password", url.Values{"current_password": {""}, "new_password": {""}, "confirm_password": {""}})
	r.wantErrorSummary("Change your password", "current_password", "new_password", "confirm_password").
		wantText("Enter your current password.")
	// A rule broken is shown the same way.
	r = b.post("/live/password", url.Values{"current_password": {goodPassword}, "new_password": {"password"}, "confirm_password": {"password"}})
	r.wantErrorSummary("Change your password", "new_password")
}

func TestEmptySecurityQuestionFlagsBothFields(t *testing.T) {
	sites := testSites()
	sites[0].Policy.Recovery = []string{"email", "security_question"}
	e := newEnvSites(t, sites)
	username, temp := e.newUser("live", "Jane", "Doe")
	b := e.browser()
	b.signIn("live", username, temp)
	b.post("/live/terms", url.Values{"version": {"1"}})
	b.post("/live/password", url.Values{"new_password": {goodPassword}, "confirm_password": {goodPassword}}).wantPath("/live/account/recovery")
	r := b.post("/live/account/recovery", url.Values{"question": {""}, "answer": {""}})
	r.wantErrorSummary("Set up your security question", "question", "answer")
	if u, err := e.store.User(t.Context(), "live", username); err != nil || u.RecoveryQuestion != "" {
		t.Errorf("an empty form saved a question: %v %+v", err, u)
	}
}

func TestUsedResetLinkOffersANewLinkAndSignIn(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.linkFor("live", username)
	e.expect(e.reset("live", token, otherPassword, otherPassword, ""), 204, "")
	r := e.browser().get("/live/reset-password?token=" + url.QueryEscape(token))
	if r.Status != 410 {
		t.Errorf("used link: status %d", r.Status)
	}
	r.wantText("<title>This reset link no longer works", `id="ask-new-link" href="/live/forgot-password">Ask for a new link</a>`,
		`<a id="sign-in-link" href="/live/login">Sign in</a>`, `href="mailto:`+helpdeskEmail+`"`)
}

func TestAccountPageOffersTheWayOnward(t *testing.T) {
	sites := testSites()
	sites[0].AppURL = "https://hmis.example.org/"
	sites[1].AppURL, sites[1].AppName = "https://training.hmis.example.org/", "Clarity Training"
	e := newEnvSites(t, sites)
	for _, c := range []struct{ site, want string }{
		{"live", `<a class="button-start" href="https://hmis.example.org/">Go to HMIS</a>`},
		{"training", `<a class="button-start" href="https://training.hmis.example.org/">Go to Clarity Training</a>`},
	} {
		username := e.activeUser(c.site, "Jane", "Doe", goodPassword)
		b := e.browser()
		r := b.signIn(c.site, username, goodPassword).wantPath("/" + c.site + "/account")
		r.wantText(c.want)
		page := r.text()
		if strings.Index(page, `id="app-onward"`) > strings.Index(page, "<h2>") {
			t.Errorf("%s: the way onward is not first on the account page", c.site)
		}
	}

	// Without app_url there is no button.
	e = newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.browser().signIn("live", username, goodPassword).wantPath("/live/account").lackText(`id="app-onward"`, "Go to HMIS")
}

// The JSON API keeps its one error shape; only login_failed adds attempts_left.
func TestAPIErrorsOtherThanLoginFailedHaveNoAttemptsLeft(t *testing.T) {
	e := newEnv(t)
	r := e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": "", "password": "x"}), 400, hmisauth.EINVALID)
	if strings.Contains(r.text(), "attempts_left") {
		t.Errorf("body %s", r.Body)
	}
}
