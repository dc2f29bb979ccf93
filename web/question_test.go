package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// questionSites are the test sites plus one that asks the user's own security question after
// the e-mailed link, as CONTRACT.md's recovery: [email, security_question].
func questionSites() []*hmisauth.Site {
	sites := testSites()
	county := *sites[0]
	county.Key, county.Name = "county", "HMIS County"
	county.Policy.Recovery = []string{"email", "security_question"}
	return append(sites, &county)
}

const (
	question = "What was the name of my first dog?"
	answer   = "Captain Biscuit"
)

// questionUser walks a new account on the county site through first sign-in, security
// question included, and returns its username.
func (e *env) questionUser(first, last string) string {
	e.t.Helper()
	username, temp := e.newUser("county", first, last)
	token := e.login("county", username, temp)
	e.expect(e.api("POST", "county", "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", "county", "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")
	e.expect(e.api("PUT", "county", "/me/recovery", token, map[string]any{"question": question, "answer": answer}), 204, "")
	e.newMail()
	return username
}

func TestSecurityQuestionIsSetUpAtFirstSignIn(t *testing.T) {
	e := newEnvSites(t, questionSites())
	username, temp := e.newUser("county", "Jane", "Doe")
	token := e.login("county", username, temp)
	var me actionsBody
	e.expect(e.api("GET", "county", "/me", token, nil), 200, "").decode(&me)
	want := []hmisauth.RequiredAction{{Name: "accept_terms"}, {Name: "change_password", Reason: "temporary"}, {Name: "setup_recovery"}}
	if !equalActions(me.RequiredActions, want) {
		t.Fatalf("required_actions %+v, want %+v", me.RequiredActions, want)
	}
	e.expect(e.api("PUT", "county", "/me/recovery", token, map[string]any{"question": question, "answer": answer}), 403, "action_required")
	e.expect(e.api("POST", "county", "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", "county", "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")
	e.expect(e.api("GET", "county", "/me", token, nil), 200, "").decode(&me)
	if !equalActions(me.RequiredActions, []hmisauth.RequiredAction{{Name: "setup_recovery"}}) {
		t.Fatalf("after the password: required_actions %+v", me.RequiredActions)
	}
	// Nothing else opens until it is done.
	e.expect(e.api("PATCH", "county", "/me", token, map[string]any{"phone": "555-0142"}), 403, "action_required")

	r := e.expect(e.api("PUT", "county", "/me/recovery", token, map[string]any{"question": "Dog?", "answer": answer}), 400, "invalid")
	var body struct{ Field string }
	r.decode(&body)
	if body.Field != "question" {
		t.Errorf("short question: %s", r.Body)
	}
	e.expect(e.api("PUT", "county", "/me/recovery", token, map[string]any{"question": question}), 400, "invalid")
	e.expect(e.api("PUT", "county", "/me/recovery", token, map[string]any{"question": question, "answer": answer}), 204, "")
	r = e.expect(e.api("GET", "county", "/me", token, nil), 200, "")
	if !strings.Contains(r.text(), `"required_actions":[]`) {
		t.Errorf("after the question: %s", r.Body)
	}
	e.expect(e.api("PATCH", "county", "/me", token, map[string]any{"phone": "555-0142"}), 200, "")
	// It can be changed later.
	e.expect(e.api("PUT", "county", "/me/recovery", token,
		map[string]any{"question": "Which street did I grow up on?", "answer": "Elm Street"}), 204, "")
}

func TestResetAsksTheSecurityQuestion(t *testing.T) {
	e := newEnvSites(t, questionSites())
	username := e.questionUser("Jane", "Doe")
	token := e.linkFor("county", username)

	var live struct {
		SecurityQuestion string `json:"security_question"`
	}
	e.expect(e.api("GET", "county", "/password/reset?token="+token, "", nil), 200, "").decode(&live)
	if live.SecurityQuestion != question {
		t.Errorf("security_question %q", live.SecurityQuestion)
	}
	b := e.browser()
	b.get("/county/reset-password?token="+token).wantText(question, `<label for="security_answer">`)
	r := b.post("/county/reset-password", url.Values{"token": {token}, "new_password": {otherPassword},
		"confirm_password": {otherPassword}, "security_answer": {"Captain Cookie"}})
	if r.Status != 400 {
		t.Errorf("wrong answer on the page: status %d", r.Status)
	}
	r.wantText(`id="security_answer-error"`, `href="#security_answer"`, "That answer is not right", question).
		lackText("Captain Cookie")

	r = e.expect(e.reset("county", token, otherPassword, otherPassword, ""), 400, "invalid")
	if !strings.Contains(r.text(), `"field":"security_answer"`) {
		t.Errorf("missing answer: %s", r.Body)
	}
	e.expect(e.reset("county", token, otherPassword, otherPassword, "Captain Cookie"), 400, "security_answer_wrong")
	if n := e.failedAttempts("county", username); n != 2 {
		t.Errorf("two wrong answers counted %d failed attempts", n)
	}
	e.expect(e.reset("county", token, otherPassword, otherPassword, "  captain   BISCUIT "), 204, "")
	if n := e.failedAttempts("county", username); n != 0 {
		t.Errorf("failed_attempts %d after the reset", n)
	}
	e.login("county", username, otherPassword)
}

func TestThreeWrongAnswersLock(t *testing.T) {
	e := newEnvSites(t, questionSites())
	username := e.questionUser("Jane", "Doe")
	token := e.linkFor("county", username)
	e.expect(e.reset("county", token, otherPassword, otherPassword, "Rex"), 400, "security_answer_wrong")
	e.expect(e.reset("county", token, otherPassword, otherPassword, "Fido"), 400, "security_answer_wrong")
	r := e.expect(e.reset("county", token, otherPassword, otherPassword, "Spot"), 423, "account_locked")
	if !strings.Contains(r.text(), helpdeskEmail) {
		t.Errorf("locked answer lacks the helpdesk: %s", r.Body)
	}
	e.expect(e.reset("county", token, otherPassword, otherPassword, answer), 423, "account_locked")
	e.expect(e.api("POST", "county", "/login", "", map[string]any{"username": username, "password": goodPassword}), 423, "account_locked")
}

// Where a reset unlocks (lockout.reset_unlocks), a locked account's wrong answers cannot lock
// it: they are counted apart, and the answers say what too many of them do.
func TestWrongAnswersOnALockedAccountWhoseResetUnlocks(t *testing.T) {
	sites := questionSites()
	sites[len(sites)-1].Policy.Lockout.ResetUnlocks = true
	e := newEnvSites(t, sites)
	username := e.questionUser("Jane", "Doe")
	e.lockOut("county", username)
	token := e.linkFor("county", username)
	for _, a := range []string{"Rex", "Fido"} {
		r := e.expect(e.reset("county", token, otherPassword, otherPassword, a), 400, "security_answer_wrong")
		if !strings.Contains(r.text(), "only the helpdesk can unlock your account until tomorrow") {
			t.Errorf("wrong answer on a locked account: %s", r.Body)
		}
	}
	e.expect(e.reset("county", token, otherPassword, otherPassword, "Spot"), 400, "security_answer_wrong")
	r := e.expect(e.reset("county", token, otherPassword, otherPassword, answer), 423, "account_locked")
	if !strings.Contains(r.text(), helpdeskEmail) || !strings.Contains(r.text(), `use \"Forgot password\" again tomorrow`) {
		t.Errorf("answers used up: %s", r.Body)
	}
	e.expect(e.api("POST", "county", "/login", "", map[string]any{"username": username, "password": goodPassword}), 423, "account_locked")
}

func TestNoSecurityQuestionMeansCallTheHelpdesk(t *testing.T) {
	e := newEnvSites(t, questionSites())
	username, _ := e.newUser("county", "Jane", "Doe") // never signed in, so never set one up
	token := e.linkFor("county", username)
	r := e.expect(e.api("GET", "county", "/password/reset?token="+token, "", nil), 403, "recovery_unavailable")
	if !strings.Contains(r.text(), helpdeskEmail) {
		t.Errorf("answer lacks the helpdesk: %s", r.Body)
	}
	e.expect(e.reset("county", token, otherPassword, otherPassword, "anything"), 403, "recovery_unavailable")
	p := e.browser().get("/county/reset-password?token=" + token)
	if p.Status != 403 {
		t.Errorf("page status %d", p.Status)
	}
	p.wantText("You cannot reset this password yourself", "no security question", "mailto:"+helpdeskEmail).
		lackText(`name="new_password"`, token)
}

func TestSetupRecoveryPages(t *testing.T) {
	e := newEnvSites(t, questionSites())
	username, temp := e.newUser("county", "Jane", "Doe")
	b := e.browser()
	b.post("/county/login", url.Values{"username": {username}, "password": {temp}}).wantPath("/county/terms")
	b.post("/county/terms", url.Values{"version": {"1"}}).wantPath("/county/password")
	r := b.post("/county/password", url.Values{"new_password": {goodPassword}, "confirm_password": {goodPassword}})
	r.wantPath("/county/account/recovery").wantText("Set up your security question", `<label for="question">`,
		`<label for="answer">`, `action="/county/logout"`)
	// Until it is done, the account leads back here.
	b.get("/county/account").wantPath("/county/account/recovery")
	b.get("/county/account/profile").wantPath("/county/account/recovery")

	r = b.post("/county/account/recovery", url.Values{"question": {question}, "answer": {"x"}})
	if r.Status != 400 {
		t.Errorf("short answer: status %d", r.Status)
	}
	r.wantText(`id="answer-error"`, `href="#answer"`, `value="`+question+`"`).lackText(`value="x"`)

	r = b.post("/county/account/recovery", url.Values{"question": {question}, "answer": {answer}})
	r.wantPath("/county/account").wantText("Your security question was saved.", `href="/county/account/recovery">Security question</a>`)
	b.get("/county/account/recovery").wantText("Your question now: <strong>"+question+"</strong>", "Back to your account").
		lackText(answer)

	// A site that does not ask one has no link to it.
	other := e.activeUser("live", "Jo", "Smith", goodPassword)
	lb := e.browser()
	lb.post("/live/login", url.Values{"username": {other}, "password": {goodPassword}}).wantPath("/live/account").
		lackText("/live/account/recovery")
}
