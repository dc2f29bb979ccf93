package web_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/web"
)

// resetLink is the link of a reset e-mail, which must stand on a line of its own, and its token.
func (e *env) resetLink(m *hmisauth.Message) (link, token string) {
	e.t.Helper()
	prefix := e.srv.URL + "/" + m.Site + "/reset-password?token="
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.Contains(line, prefix) {
			if link = strings.TrimSpace(line); !strings.HasPrefix(link, prefix) || strings.ContainsAny(link, " \t") {
				e.t.Fatalf("the link is not on a line of its own: %q", line)
			}
			return link, strings.TrimPrefix(link, prefix)
		}
	}
	e.t.Fatalf("no reset link in the e-mail:\n%s", m.Text)
	return "", ""
}

// forgot asks for a reset link through the API.
func (e *env) forgot(site, username string) *response {
	e.t.Helper()
	return e.api("POST", site, "/password/forgot", "", map[string]any{"username": username})
}

// reset posts a new password through a reset link.
func (e *env) reset(site, token, pw, confirm, answer string) *response {
	e.t.Helper()
	body := map[string]any{"token": token, "new_password": pw, "confirm_password": confirm}
	if answer != "" {
		body["security_answer"] = answer
	}
	return e.api("POST", site, "/password/reset", "", body)
}

// linkFor asks for a reset link and returns its token from the e-mail.
func (e *env) linkFor(site, username string) string {
	e.t.Helper()
	e.expect(e.forgot(site, username), 202, "")
	m := e.oneMail()
	if m.Kind != hmisauth.MailReset {
		e.t.Fatalf("a %s e-mail, want a reset link", m.Kind)
	}
	_, token := e.resetLink(m)
	return token
}

func (e *env) failedAttempts(site, username string) int {
	e.t.Helper()
	u, err := e.store.User(context.Background(), site, username)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.FailedAttempts
}

func TestForgotPasswordThenResetThroughTheEmailedLink(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	other := e.login("live", username, goodPassword) // a session elsewhere, which the reset ends
	wrong := map[string]any{"username": username, "password": "Wrong-Pass-1"}
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")

	r := e.expect(e.forgot("live", username), 202, "")
	var answer struct{ Message string }
	r.decode(&answer)
	if !strings.Contains(answer.Message, "If HMIS Live has an account with that username") ||
		!strings.Contains(answer.Message, "15 minutes") || !strings.Contains(answer.Message, helpdeskEmail) {
		t.Errorf("forgot answer %s", r.Body)
	}

	m := e.oneMail()
	if m.Kind != hmisauth.MailReset || m.To != "jane@agency.example.org" || m.Site != "live" {
		t.Errorf("e-mail %s to %s on %s", m.Kind, m.To, m.Site)
	}
	// 15:00 UTC is 9:00 AM in Chicago, the site's timezone.
	for _, want := range []string{"HMIS Live", "Mar 2, 2026", "9:00 AM CST"} {
		if !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q lacks %q", m.Subject, want)
		}
	}
	for _, want := range []string{"15 minutes", helpdeskEmail, "did not ask", username} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("e-mail text lacks %q:\n%s", want, m.Text)
		}
	}
	link, token := e.resetLink(m)
	if len(token) < 43 {
		t.Errorf("token %q is shorter than 256 bits", token)
	}

	// Following the link opens the form.
	b := e.browser()
	b.get(strings.TrimPrefix(link, e.srv.URL)).wantText("Reset the password for "+username+" on HMIS Live", `name="new_password"`)
	var live struct {
		ExpiresAt        time.Time `json:"expires_at"`
		SecurityQuestion *string   `json:"security_question"`
	}
	e.expect(e.api("GET", "live", "/password/reset?token="+url.QueryEscape(token), "", nil), 200, "").decode(&live)
	if want := e.clock.Now().Add(15 * time.Minute); !live.ExpiresAt.Equal(want) || live.SecurityQuestion != nil {
		t.Errorf("link answers expires_at %v (want %v), security_question %v", live.ExpiresAt, want, live.SecurityQuestion)
	}

	r = e.expect(e.reset("live", token, "password", "password", ""), 400, "password_policy")
	var policy struct{ Violations []hmisauth.Violation }
	r.decode(&policy)
	broken := map[string]bool{}
	for _, v := range policy.Violations {
		broken[v.Rule] = true
	}
	for _, rule := range []string{"upper", "digit", "symbol", "common"} {
		if !broken[rule] {
			t.Errorf("violations lack %q: %s", rule, r.Body)
		}
	}
	e.expect(e.reset("live", token, otherPassword, goodPassword, ""), 400, "password_mismatch")
	e.expect(e.reset("live", token, goodPassword, goodPassword, ""), 400, "password_reused")
	e.expect(e.reset("live", token, otherPassword, otherPassword, ""), 204, "")
	if n := e.failedAttempts("live", username); n != 0 {
		t.Errorf("failed_attempts %d after the reset", n)
	}
	e.expect(e.api("GET", "live", "/me", other, nil), 401, "unauthorized")
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": goodPassword}), 401, "login_failed")
	e.login("live", username, otherPassword)

	notice := e.oneMail()
	if notice.Kind != hmisauth.MailPasswordChanged || notice.To != "jane@agency.example.org" {
		t.Errorf("after the reset: a %s e-mail to %s, want password_changed", notice.Kind, notice.To)
	}
	// The link is single-use.
	e.expect(e.api("GET", "live", "/password/reset?token="+url.QueryEscape(token), "", nil), 410, "token_invalid")
	e.expect(e.reset("live", token, "Third-Choice-88x", "Third-Choice-88x", ""), 410, "token_invalid")
	if logs := e.logs.String(); strings.Contains(logs, token) {
		t.Error("the log contains the reset token")
	}
}

func TestAskingTwiceWithinMinutesSendsOneEmail(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	first := e.linkFor("live", username)

	e.clock.Advance(2 * time.Minute)
	e.expect(e.forgot("live", username), 202, "")
	if msgs := e.newMail(); len(msgs) != 0 {
		t.Fatalf("a second request within minutes sent %d more e-mails", len(msgs))
	}
	e.expect(e.api("GET", "live", "/password/reset?token="+first, "", nil), 200, "")

	// Later, a new request sends a new link, and the older one dies.
	e.clock.Advance(4 * time.Minute)
	second := e.linkFor("live", username)
	if second == first {
		t.Fatal("the same link was sent twice")
	}
	e.expect(e.api("GET", "live", "/password/reset?token="+first, "", nil), 410, "token_invalid")
	e.expect(e.reset("live", first, otherPassword, otherPassword, ""), 410, "token_invalid")
	e.expect(e.reset("live", second, otherPassword, otherPassword, ""), 204, "")
}

func TestExpiredLinkIsGone(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.linkFor("live", username)
	e.clock.Advance(14 * time.Minute)
	e.expect(e.api("GET", "live", "/password/reset?token="+token, "", nil), 200, "")
	e.clock.Advance(2 * time.Minute)
	r := e.expect(e.api("GET", "live", "/password/reset?token="+token, "", nil), 410, "token_invalid")
	if !strings.Contains(r.text(), "no longer works") {
		t.Errorf("expired link answer %s", r.Body)
	}
	e.expect(e.reset("live", token, otherPassword, otherPassword, ""), 410, "token_invalid")
	e.expect(e.api("GET", "live", "/password/reset?token=not-a-token", "", nil), 410, "token_invalid")
	e.expect(e.api("GET", "live", "/password/reset", "", nil), 410, "token_invalid")
	// A link of one site means nothing on another.
	other := e.activeUser("training", "Jane", "Doe", goodPassword)
	e.expect(e.api("GET", "live", "/password/reset?token="+e.linkFor("training", other), "", nil), 410, "token_invalid")
}

// TestForgotAnswersAlikeForEveryone: nothing in the answer tells an outsider whether the
// username exists, has an e-mail address, or is locked or disabled.
func TestForgotAnswersAlikeForEveryone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	real := e.activeUser("live", "Jane", "Doe", goodPassword)
	if _, err := e.svc.CreateUser(ctx, auth.NewUser{Site: "live", FirstName: "Nora", LastName: "Mail"}); err != nil {
		t.Fatal(err)
	}
	locked := e.activeUser("live", "Lou", "Locke", goodPassword)
	for range 3 {
		e.api("POST", "live", "/login", "", map[string]any{"username": locked, "password": "Wrong-Pass-1"})
	}
	disabled := e.activeUser("live", "Dee", "Sable", goodPassword)
	if _, err := e.svc.SetDisabled(ctx, "live", disabled, true); err != nil {
		t.Fatal(err)
	}
	first := e.expect(e.forgot("live", real), 202, "")
	for _, username := range []string{"nosuchuser", "nmail", locked, disabled, "  " + strings.ToUpper(real) + " "} {
		got := e.forgot("live", username)
		if got.Status != first.Status || !bytes.Equal(got.Body, first.Body) {
			t.Errorf("%q: %d %s; real user: %d %s", username, got.Status, got.Body, first.Status, first.Body)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Set-Cookie"} {
			if got.Header.Get(h) != first.Header.Get(h) {
				t.Errorf("%q: header %s %q, real user %q", username, h, got.Header.Get(h), first.Header.Get(h))
			}
		}
	}
	// The forms answer alike too.
	b := e.browser()
	page := b.post("/live/forgot-password", url.Values{"username": {real}})
	for _, username := range []string{"nosuchuser", "nmail", locked, disabled} {
		got := b.post("/live/forgot-password", url.Values{"username": {username}})
		if got.Status != page.Status || !bytes.Equal(got.Body, page.Body) {
			t.Errorf("%q: the page differs from the real user's", username)
		}
	}

	// Behind the identical answers: one link for the real user, a helpdesk note for the locked
	// one, nothing for the others.
	sent := map[string]int{}
	for _, m := range e.newMail() {
		sent[m.Kind+" to "+m.To]++
	}
	// The real user asked three times within minutes: one link. The locked user asked twice.
	want := map[string]int{"reset to jane@agency.example.org": 1, "reset_locked to lou@agency.example.org": 2}
	if len(sent) != len(want) {
		t.Errorf("e-mails %v, want %v", sent, want)
	}
	for k, n := range want {
		if sent[k] != n {
			t.Errorf("e-mails %v, want %v", sent, want)
		}
	}
}

func TestLockedAccountGetsNoWorkingLink(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.linkFor("live", username) // made before the lock
	for range 3 {
		e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": "Wrong-Pass-1"})
	}
	e.expect(e.forgot("live", username), 202, "")
	m := e.oneMail()
	if m.Kind != hmisauth.MailResetLocked || strings.Contains(m.Text, "reset-password") || !strings.Contains(m.Text, helpdeskEmail) {
		t.Errorf("locked account's e-mail: %s\n%s", m.Kind, m.Text)
	}
	r := e.expect(e.reset("live", token, otherPassword, otherPassword, ""), 423, "account_locked")
	if !strings.Contains(r.text(), helpdeskEmail) {
		t.Errorf("locked answer lacks the helpdesk: %s", r.Body)
	}
	e.browser().get("/live/reset-password?token="+token).wantText("Your account is locked", helpdeskEmail).
		lackText(`name="new_password"`, token)
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": otherPassword}), 423, "account_locked")
}

func TestForgotRefusesWhatCannotBeAUsername(t *testing.T) {
	e := newEnv(t)
	r := e.expect(e.forgot("live", "  "), 400, "invalid")
	var body struct{ Field string }
	r.decode(&body)
	if body.Field != "username" {
		t.Errorf("empty username: %s", r.Body)
	}
	e.expect(e.forgot("live", strings.Repeat("a", 65)), 400, "invalid")
	e.expect(e.forgot("nosuchsite", "jdoe"), 404, "not_found")
	e.expect(e.api("POST", "live", "/password/forgot", "", map[string]any{"username": "jdoe", "email": "x@y.z"}), 400, "invalid")
	if msgs := e.newMail(); len(msgs) != 0 {
		t.Errorf("%d e-mails", len(msgs))
	}
}

func TestPatchMeChangesEmailAndTellsTheOldAddress(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)

	var me struct{ User map[string]any }
	e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"email": "jane.doe@shelter.example.org"}), 200, "").decode(&me)
	if me.User["email"] != "jane.doe@shelter.example.org" || me.User["username"] != username {
		t.Errorf("PATCH /me answered %v", me.User)
	}
	m := e.oneMail()
	if m.Kind != hmisauth.MailEmailChanged || m.To != "jane@agency.example.org" || !strings.Contains(m.Text, "jane.doe@shelter.example.org") {
		t.Errorf("the old address got %s to %s:\n%s", m.Kind, m.To, m.Text)
	}

	e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"phone": "555-0142"}), 200, "").decode(&me)
	if me.User["phone"] != "555-0142" || me.User["email"] != "jane.doe@shelter.example.org" {
		t.Errorf("phone change answered %v", me.User)
	}
	if msgs := e.newMail(); len(msgs) != 0 {
		t.Errorf("a phone change sent %d e-mails", len(msgs))
	}
	r := e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"email": "not an address"}), 400, "invalid")
	var body struct{ Field string }
	r.decode(&body)
	if body.Field != "email" {
		t.Errorf("bad e-mail answer %s", r.Body)
	}
	e.expect(e.api("PATCH", "live", "/me", "", map[string]any{"phone": "1"}), 401, "unauthorized")

	// The new address is where reset links go now.
	e.expect(e.forgot("live", username), 202, "")
	if m := e.oneMail(); m.To != "jane.doe@shelter.example.org" {
		t.Errorf("reset link sent to %s", m.To)
	}
}

func TestDevInboxShowsMailWithClickableLinks(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.expect(e.forgot("live", username), 202, "")
	var link string
	for _, m := range e.newMail() {
		if m.Kind == hmisauth.MailReset {
			link, _ = e.resetLink(m)
		}
	}
	r := e.browser().get("/dev/mail")
	if r.Status != 200 {
		t.Fatalf("/dev/mail: %d", r.Status)
	}
	r.wantText("Development inbox — e-mails are not really sent", "HMIS Live: password reset requested",
		"jane@agency.example.org", `<a href="`+link+`">`+link+`</a>`, "reset", "password_changed")
	// The e-mails are shown as text: the only scripts on the page are the layout's own files.
	body := string(r.Body)
	if all, ours := strings.Count(body, "<script"), strings.Count(body, `<script src="/static/`); all != ours {
		t.Errorf("/dev/mail has %d script tags of which %d are the layout's files", all, ours)
	}

	off := newEnv(t, func(o *web.Options) { o.DevInbox = nil })
	if r := off.browser().get("/dev/mail"); r.Status != 404 {
		t.Errorf("/dev/mail without DevInbox: %d", r.Status)
	}
}
