package web_test

// The behaviours a black-box probe of the running server asked for (issue 10), each over real
// HTTP against a real server.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

// A stolen session must not become a permanent takeover: the e-mail address decides where
// reset links go, so changing it needs the password again, like the security settings.
func TestChangingTheEmailNeedsTheCurrentPasswordOnceTheWindowCloses(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)
	e.clock.Advance(6 * time.Minute) // past session.reauth (5m), well within the idle limit

	newEmail := map[string]any{"email": "attacker@evil.example"}
	r := e.expect(e.api("PATCH", "live", "/me", token, newEmail), 403, "reauth_required")
	var body struct{ Field string }
	r.decode(&body)
	if body.Field != "current_password" {
		t.Errorf("refusal names field %q, want current_password: %s", body.Field, r.Body)
	}
	e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"email": "attacker@evil.example", "current_password": "Guess-1234"}),
		401, "current_password_wrong")
	if n := e.failedAttempts("live", username); n != 1 {
		t.Errorf("a wrong current password counted %d failed attempts, want 1 (it is a guess like any other)", n)
	}
	if msgs := e.newMail(); len(msgs) != 0 {
		t.Fatalf("a refused change sent %d e-mails", len(msgs))
	}
	e.expect(e.forgot("live", username), 202, "")
	if m := e.oneMail(); m.To != "jane@agency.example.org" {
		t.Fatalf("after the refused change the reset link went to %s", m.To)
	}

	// The phone number is not recovery information: no password needed.
	e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"phone": "555-0142"}), 200, "")

	// With the current password the change goes through, and the old address is told whom
	// to call if it was not them.
	e.clock.Advance(6 * time.Minute)
	e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"email": "jane.doe@shelter.example.org", "current_password": goodPassword}), 200, "")
	m := e.oneMail()
	if m.Kind != hmisauth.MailEmailChanged || m.To != "jane@agency.example.org" ||
		!strings.Contains(m.Text, "If this was not you, contact the helpdesk at once: "+helpdeskEmail) {
		t.Errorf("the old address got %s to %s:\n%s", m.Kind, m.To, m.Text)
	}
	if n := e.failedAttempts("live", username); n != 1 {
		t.Errorf("the right password changed the count to %d; it gives its own attempt back", n)
	}

	// Right after typing the password again (the security settings), no password is asked.
	e.expect(e.api("POST", "live", "/me/reauth", token, map[string]any{"password": goodPassword}), 204, "")
	e.expect(e.api("PATCH", "live", "/me", token, map[string]any{"email": "jane@agency.example.org"}), 200, "")
}

func TestTheProfileFormAsksThePasswordInline(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	b.get("/live/account/profile").lackText(`name="current_password"`) // just signed in: the window is open
	e.clock.Advance(6 * time.Minute)
	b.get("/live/account/profile").wantText(`name="current_password"`, "Only needed if you change your e-mail address")

	r := b.post("/live/account/profile", url.Values{"email": {"attacker@evil.example"}, "phone": {""}})
	if r.Status != http.StatusForbidden {
		t.Errorf("status %d, want 403", r.Status)
	}
	r.wantPath("/live/account/profile").wantText("To change your e-mail address, type your current password.",
		`id="current_password-error"`, `value="attacker@evil.example"`)
	b.post("/live/account/profile", url.Values{"email": {"jane.doe@shelter.example.org"}, "phone": {""},
		"current_password": {goodPassword}}).wantPath("/live/account")
	if m := e.oneMail(); m.Kind != hmisauth.MailEmailChanged {
		t.Errorf("e-mail %s, want the change notice", m.Kind)
	}
	// The phone alone saves without it.
	e.clock.Advance(6 * time.Minute)
	b.post("/live/account/profile", url.Values{"phone": {"555-0100"}}).wantPath("/live/account")
}

// Anyone can type three wrong passwords for a username. The lock that follows stops new
// sign-ins, but whoever is signed in already keeps working.
func TestALockCannotThrowPeopleOut(t *testing.T) {
	w := newAdminWorld(t)
	e := w.env
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	token := e.login("live", username, goodPassword)

	e.lockOut("live", username)
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": goodPassword}), 423, "account_locked")

	b.get("/live/account").wantPath("/live/account")
	e.expect(e.api("GET", "live", "/me", token, nil), 200, "")

	// What still ends sessions does: the helpdesk's "end all sessions".
	e.expect(e.api("DELETE", "live", "/users/"+username+"/sessions", w.sys, nil), 204, "")
	e.expect(e.api("GET", "live", "/me", token, nil), 401, "unauthorized")
	b.get("/live/account").wantPath("/live/login")
}

// A site may let a completed e-mailed reset unlock the account (lockout.reset_unlocks): the
// locked user then gets a working link, and the answers say so.
func TestResetUnlocksWhereTheSiteAllowsIt(t *testing.T) {
	sites := testSites()
	sites[0].Policy.Lockout.ResetUnlocks = true
	e := newEnvSites(t, sites)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.lockOut("live", username)
	r := e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": goodPassword}), 423, "account_locked")
	if !strings.Contains(r.text(), "Forgot password") {
		t.Errorf("the locked answer does not offer the reset: %s", r.Body)
	}
	r = e.expect(e.forgot("live", username), 202, "")
	if !strings.Contains(r.text(), "also unlocks it") {
		t.Errorf("the forgot answer does not say a reset unlocks: %s", r.Body)
	}
	b := e.browser()
	b.post("/live/forgot-password", url.Values{"username": {"someone-else"}}).wantText("choosing a new password with the link also unlocks it")
	link, token := e.resetLink(e.oneMail())
	if !strings.Contains(link, "token=") {
		t.Fatalf("no link")
	}
	b.get("/live/reset-password?token="+token).wantText("Saving a new password", `name="new_password"`)
	e.expect(e.reset("live", token, otherPassword, otherPassword, ""), 204, "")
	e.login("live", username, otherPassword)

	// The other site keeps the default: a locked account gets no link.
	other := e.activeUser("training", "Ana", "Diaz", goodPassword)
	e.lockOut("training", other)
	r = e.expect(e.forgot("training", other), 202, "")
	if !strings.Contains(r.text(), "the helpdesk must unlock it first") {
		t.Errorf("the default forgot answer: %s", r.Body)
	}
	if m := e.oneMail(); m.Kind != hmisauth.MailResetLocked {
		t.Errorf("locked account on the default site got %s", m.Kind)
	}
}

// Refusals that cost the server no hash (a locked username, a dropped reset request) come
// a thousand a second: they must not each write a row of the audit log, which is never
// pruned. The first of a window is logged, the rest summarised in one event.
func TestAFloodOfRefusalsCannotFillTheAuditLog(t *testing.T) {
	sites := testSites()
	sites[0].Policy.ResetLimits.PerAddress = 3
	// Past the limit the sign-ins would be refused as rate-limited (ratelimit_test.go):
	// here the refusals on the locked username are what floods.
	sites[0].Policy.RateLimits.SignInPerAddress = 10000
	e := newEnvSites(t, sites)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.lockOut("live", username)
	before := e.eventCount()

	const flood = 1000
	for i := range flood {
		e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": strings.ToUpper(username[:1]) + username[1:], "password": "x"}), 423, "account_locked")
		if i < 3 {
			e.expect(e.forgot("live", "user"+string(rune('a'+i%26))), 202, "")
		} else {
			e.expect(e.forgot("live", "user"+string(rune('a'+i%26))), 429, "rate_limited")
		}
	}
	// 3 accepted reset requests, 1 refused sign-in and 1 refused request logged on their own.
	if got := e.eventCount() - before; got != 5 {
		t.Errorf("%d refused requests wrote %d audit events, want 5", 2*flood, got)
	}
	e.clock.Advance(hmisauth.RefusalWindow)
	n, err := e.svc.SummarizeRefusals(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("summaries: %d, %v; want 2", n, err)
	}
	if n, _ := e.svc.SummarizeRefusals(context.Background()); n != 0 {
		t.Errorf("summarising again wrote %d more", n)
	}
	if got := e.eventCount() - before; got != 7 {
		t.Errorf("with the summaries the flood wrote %d events, want 7", got)
	}
	evs, err := e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Action: hmisauth.EventLoginRefusals})
	if err != nil || len(evs) != 1 || !strings.HasPrefix(evs[0].Detail, "999 more sign-in attempts refused (account locked) for "+strings.ToUpper(username[:1])) ||
		!strings.HasSuffix(evs[0].Detail, "from 1 address: 127.0.0.1") || evs[0].Subject == "" {
		t.Errorf("the sign-in summary: %+v (%v)", evs, err)
	}
	evs, err = e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Action: hmisauth.EventResetDropped})
	if err != nil || len(evs) != 1 || !strings.HasPrefix(evs[0].Detail, "996 more password-reset requests refused from 127.0.0.1") ||
		!strings.Contains(evs[0].Detail, "for 26 usernames") {
		t.Errorf("the reset summary: %+v (%v)", evs, err)
	}
	rep, err := audit.Verify(context.Background(), e.store)
	if err != nil || !rep.OK {
		t.Fatalf("the chain after the flood: %+v, %v", rep, err)
	}
}

// eventCount is how many events the audit log holds.
func (e *env) eventCount() int {
	e.t.Helper()
	n := 0
	if err := e.store.EachEvent(context.Background(), func(*hmisauth.Event) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}
