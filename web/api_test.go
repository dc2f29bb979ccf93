package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

type actionsBody struct {
	RequiredActions []hmisauth.RequiredAction `json:"required_actions"`
}

func TestLoginReturnsTokenUserAndRequiredActions(t *testing.T) {
	e := newEnv(t)
	username, temp := e.newUser("live", "Jane", "Doe")
	r := e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": temp}), 200, "")
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body struct {
		Token           string
		ExpiresAt       time.Time                 `json:"expires_at"`
		RequiredActions []hmisauth.RequiredAction `json:"required_actions"`
		User            map[string]any
	}
	r.decode(&body)
	if len(body.Token) < 40 {
		t.Errorf("token %q is too short for 256 bits", body.Token)
	}
	if want := e.clock.Now().Add(12 * time.Hour); !body.ExpiresAt.Equal(want) {
		t.Errorf("expires_at %v, want %v", body.ExpiresAt, want)
	}
	want := []hmisauth.RequiredAction{{Name: "accept_terms"}, {Name: "change_password", Reason: "temporary"}}
	if !equalActions(body.RequiredActions, want) {
		t.Errorf("required_actions %+v, want %+v", body.RequiredActions, want)
	}
	for k, v := range map[string]any{"username": username, "first_name": "Jane", "last_name": "Doe",
		"email": "jane@agency.example.org", "role": "user", "site": "live", "mfa_enabled": false} {
		if body.User[k] != v {
			t.Errorf("user.%s = %v, want %v", k, body.User[k], v)
		}
	}
}

func equalActions(a, b []hmisauth.RequiredAction) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWrongPasswordSaysLoginFailed(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	r := e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": "Wrong-Pass-1"}), 401, "login_failed")
	if got := strings.TrimSpace(r.text()); got != `{"error":"login_failed","message":"Login failed!","attempts_left":2}` {
		t.Errorf("body %s", got)
	}
}

func TestThirdWrongPasswordLocks(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	wrong := map[string]any{"username": username, "password": "Wrong-Pass-1"}
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
	for i := 3; i <= 4; i++ {
		r := e.expect(e.api("POST", "live", "/login", "", wrong), 423, "account_locked")
		if !strings.Contains(r.text(), helpdeskEmail) {
			t.Errorf("attempt %d: locked answer lacks the helpdesk contact: %s", i, r.Body)
		}
	}
	// The right password does not open a locked account either.
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": goodPassword}), 423, "account_locked")
}

func TestUnknownUserAnswersExactlyLikeWrongPassword(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	for attempt := 1; attempt <= 4; attempt++ {
		real := e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": "Wrong-Pass-1"})
		ghost := e.api("POST", "live", "/login", "", map[string]any{"username": "nosuchuser", "password": "Wrong-Pass-1"})
		if real.Status != ghost.Status || !bytes.Equal(real.Body, ghost.Body) {
			t.Errorf("attempt %d: real user %d %s, unknown user %d %s", attempt, real.Status, real.Body, ghost.Status, ghost.Body)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Retry-After", "Set-Cookie"} {
			if real.Header.Get(h) != ghost.Header.Get(h) {
				t.Errorf("attempt %d: header %s differs: %q vs %q", attempt, h, real.Header.Get(h), ghost.Header.Get(h))
			}
		}
	}
}

func TestFiftyParallelWrongPasswordsCountExactlyThree(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	const n = 50
	statuses := make([]*response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": "Wrong-Pass-1"})
		})
	}
	wg.Wait()
	for i, r := range statuses {
		ok := (r.Status == 401 && r.errorCode() == "login_failed") || (r.Status == 423 && r.errorCode() == "account_locked")
		if !ok {
			t.Errorf("response %d: %d %s", i, r.Status, r.Body)
		}
	}
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedAttempts != 3 || !u.Locked() {
		t.Errorf("after %d parallel guesses: failed_attempts %d, locked %v; want 3 and locked", n, u.FailedAttempts, u.Locked())
	}
}

func TestSuccessfulLoginResetsFailedAttempts(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	wrong := map[string]any{"username": username, "password": "Wrong-Pass-1"}
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
	e.login("live", username, goodPassword)
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedAttempts != 0 {
		t.Errorf("failed_attempts %d after a success", u.FailedAttempts)
	}
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
	e.expect(e.api("POST", "live", "/login", "", wrong), 401, "login_failed")
}

func TestFirstLoginWalksThroughRequiredActions(t *testing.T) {
	e := newEnv(t)
	username, temp := e.newUser("live", "Jane", "Doe")
	token := e.login("live", username, temp)

	var me actionsBody
	e.expect(e.api("GET", "live", "/me", token, nil), 200, "").decode(&me)
	if len(me.RequiredActions) != 2 {
		t.Fatalf("required_actions %+v", me.RequiredActions)
	}
	// Nothing else opens until the terms are accepted.
	e.expect(e.api("POST", "live", "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 403, "action_required")
	e.expect(e.api("POST", "live", "/me/terms", token, map[string]any{"version": 7}), 409, "terms_version")
	e.expect(e.api("POST", "live", "/me/terms", token, map[string]any{"version": 1}), 204, "")

	e.expect(e.api("GET", "live", "/me", token, nil), 200, "").decode(&me)
	want := []hmisauth.RequiredAction{{Name: "change_password", Reason: "temporary"}}
	if !equalActions(me.RequiredActions, want) {
		t.Fatalf("required_actions %+v, want %+v", me.RequiredActions, want)
	}

	r := e.expect(e.api("POST", "live", "/me/password", token,
		map[string]any{"new_password": "password", "confirm_password": "password"}), 400, "password_policy")
	var policy struct {
		Field      string
		Violations []hmisauth.Violation
	}
	r.decode(&policy)
	if policy.Field != "new_password" || len(policy.Violations) < 2 {
		t.Errorf("policy answer %s", r.Body)
	}
	for _, v := range policy.Violations {
		if v.Rule == "" || v.Message == "" {
			t.Errorf("violation without rule or message: %+v", v)
		}
	}
	e.expect(e.api("POST", "live", "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": otherPassword}), 400, "password_mismatch")
	e.expect(e.api("POST", "live", "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")

	r = e.expect(e.api("GET", "live", "/me", token, nil), 200, "")
	if !strings.Contains(r.text(), `"required_actions":[]`) {
		t.Errorf("required_actions not an empty list: %s", r.Body)
	}
	var full struct {
		Session struct {
			ExpiresAt     time.Time `json:"expires_at"`
			IdleExpiresAt time.Time `json:"idle_expires_at"`
		}
		PasswordExpiresAt time.Time `json:"password_expires_at"`
	}
	r.decode(&full)
	if full.Session.ExpiresAt.IsZero() || full.Session.IdleExpiresAt.IsZero() || full.PasswordExpiresAt.IsZero() {
		t.Errorf("me lacks times: %s", r.Body)
	}
	// The old temporary password is gone, the new one works.
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": temp}), 401, "login_failed")
	e.login("live", username, goodPassword)
}

func TestTemporaryPasswordWorksOnce(t *testing.T) {
	e := newEnv(t)
	username, temp := e.newUser("live", "Jane", "Doe")
	e.login("live", username, temp)
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": temp}), 401, "temporary_password_used")
}

func TestExpiredPasswordMustChangeAndNotReuse(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.clock.Advance(46 * 24 * time.Hour) // max_age_days is 45
	r := e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": goodPassword}), 200, "")
	var body struct {
		Token string
		actionsBody
	}
	r.decode(&body)
	want := []hmisauth.RequiredAction{{Name: "change_password", Reason: "expired"}}
	if !equalActions(body.RequiredActions, want) {
		t.Fatalf("required_actions %+v, want %+v", body.RequiredActions, want)
	}
	e.expect(e.api("POST", "live", "/me/password", body.Token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 400, "password_reused")
	e.expect(e.api("POST", "live", "/me/password", body.Token,
		map[string]any{"new_password": otherPassword, "confirm_password": otherPassword}), 204, "")
}

func TestVoluntaryPasswordChangeNeedsCurrentPassword(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)
	e.clock.Advance(6 * time.Minute) // past session.reauth: only the current password will do
	e.expect(e.api("POST", "live", "/me/password", token,
		map[string]any{"new_password": otherPassword, "confirm_password": otherPassword}), 403, "reauth_required")
	e.expect(e.api("POST", "live", "/me/password", token, map[string]any{"current_password": "Not-It-99",
		"new_password": otherPassword, "confirm_password": otherPassword}), 401, "current_password_wrong")
	e.expect(e.api("POST", "live", "/me/password", token, map[string]any{"current_password": goodPassword,
		"new_password": otherPassword, "confirm_password": otherPassword}), 204, "")
}

func TestTokenOfAnotherSiteIsRefused(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)
	e.expect(e.api("GET", "training", "/me", token, nil), 401, "unauthorized")
	e.expect(e.api("GET", "live", "/me", token, nil), 200, "")
	// The same username on training is a different account that does not exist.
	e.expect(e.api("POST", "training", "/login", "", map[string]any{"username": username, "password": goodPassword}), 401, "login_failed")
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)
	e.expect(e.api("POST", "live", "/logout", token, nil), 204, "")
	e.expect(e.api("GET", "live", "/me", token, nil), 401, "unauthorized")
	e.expect(e.api("POST", "live", "/logout", token, nil), 401, "unauthorized")
}

func TestIdleSessionTimesOut(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)
	e.clock.Advance(20 * time.Minute)
	e.expect(e.api("GET", "live", "/me", token, nil), 200, "") // activity keeps it alive
	e.clock.Advance(29 * time.Minute)
	e.expect(e.api("GET", "live", "/me", token, nil), 200, "")
	e.clock.Advance(31 * time.Minute)
	r := e.expect(e.api("GET", "live", "/me", token, nil), 401, "session_expired")
	if !strings.Contains(r.text(), "timed out") {
		t.Errorf("timeout answer %s", r.Body)
	}
}

func TestDisabledUserGetsLoginFailed(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	if _, err := e.svc.SetDisabled(context.Background(), "live", username, true); err != nil {
		t.Fatal(err)
	}
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": goodPassword}), 401, "login_failed")
}

func TestMissingTokenIsUnauthorized(t *testing.T) {
	e := newEnv(t)
	e.expect(e.api("GET", "live", "/me", "", nil), 401, "unauthorized")
	e.expect(e.api("GET", "live", "/me", "not-a-real-token", nil), 401, "unauthorized")
	e.expect(e.api("GET", "nosuchsite", "/me", "", nil), 404, "not_found")
	e.expect(e.api("GET", "live", "/no/such/call", "", nil), 404, "not_found")
}

func TestAPIRefusesMalformedRequests(t *testing.T) {
	e := newEnv(t)
	post := func(contentType, body string) *response {
		req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/sites/live/login", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return e.do(http.DefaultClient, req)
	}
	r := e.expect(post("application/json", `{"username":"a","password":"b","admin":true}`), 400, "invalid")
	var body struct{ Field, Message string }
	r.decode(&body)
	if body.Field != "admin" || !strings.Contains(body.Message, "admin") {
		t.Errorf("unknown field answer %s", r.Body)
	}
	e.expect(post("text/plain", `{"username":"a","password":"b"}`), 415, "invalid")
	e.expect(post("", `{"username":"a","password":"b"}`), 415, "invalid")
	e.expect(post("application/json", `{"username":`), 400, "invalid")
	e.expect(post("application/json", `{"username":"a","password":"b"} {}`), 400, "invalid")
	e.expect(post("application/json", `{"username":5,"password":"b"}`), 400, "invalid")
	e.expect(post("application/json", `{"username":"`+strings.Repeat("a", 70<<10)+`"}`), 413, "invalid")
	e.expect(post("application/json; charset=utf-8", `{"username":"","password":"b"}`), 400, "invalid")
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := newEnv(t)
	want := map[string]string{
		"Content-Security-Policy":    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	b := e.browser()
	for _, r := range []*response{
		b.get("/live/login"), b.get("/nosuch/page"), b.get("/"),
		e.api("GET", "live", "/me", "", nil),
		e.api("POST", "live", "/login", "", map[string]any{"username": "x", "password": "y"}),
	} {
		for h, v := range want {
			if got := r.Header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", r.URL.Path, h, got, v)
			}
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q", r.URL.Path, got)
		}
		if got := r.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: HSTS %q over plain http", r.URL.Path, got)
		}
	}
}

func TestCrossOriginFormPostIsRefused(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	// A wrong password: had the login run, it would have counted a failed attempt.
	form := "username=" + username + "&password=Wrong-Pass-1"
	for name, set := range map[string]func(*http.Request){
		"sec-fetch-site": func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"origin":         func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
	} {
		req, err := http.NewRequest("POST", e.srv.URL+"/live/login", strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		set(req)
		r := e.do(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, req)
		if r.Status != 403 {
			t.Errorf("%s: status %d, want 403", name, r.Status)
		}
		if r.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a refused request set a cookie", name)
		}
	}
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedAttempts != 0 {
		t.Errorf("a refused cross-origin post reached the login: failed_attempts %d", u.FailedAttempts)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if r := b.get("/healthz"); r.Status != 200 || strings.TrimSpace(r.text()) != "ok" {
		t.Errorf("healthz %d %q", r.Status, r.Body)
	}
	if r := b.get("/readyz"); r.Status != 200 {
		t.Errorf("readyz %d %q", r.Status, r.Body)
	}
	e.store.Close()
	if r := b.get("/readyz"); r.Status != 503 {
		t.Errorf("readyz with the database closed: %d %q", r.Status, r.Body)
	}
	if r := b.get("/healthz"); r.Status != 200 {
		t.Errorf("healthz with the database closed: %d", r.Status)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	username, temp := e.newUser("live", "Jane", "Doe")
	token := e.login("live", username, temp)
	e.expect(e.api("POST", "live", "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", "live", "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")
	e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": "Wrong-Pass-1"})
	b := e.browser()
	b.post("/live/login", map[string][]string{"username": {username}, "password": {goodPassword}})
	b.get("/live/account")
	logs := e.logs.String()
	if !strings.Contains(logs, "msg=request") {
		t.Fatalf("no request log lines:\n%s", logs)
	}
	for _, secret := range []string{temp, token, goodPassword, "Wrong-Pass-1", "hmisauth_live=", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}
