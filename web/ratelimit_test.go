package web_test

// The rate limits per client address, and which address a request is counted under, over
// real HTTP.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/web"
)

// limitedSites are the test sites with the live site's policy changed by edit; the lockout
// is raised out of the way, so the limits are met first.
func limitedSites(edit func(*hmisauth.Policy)) []*hmisauth.Site {
	sites := testSites()
	sites[0].Policy.Lockout.Threshold = 50
	edit(&sites[0].Policy)
	return sites
}

// behindProxy makes the test's own loopback address a trusted proxy, so requests can say
// which client they come from.
func behindProxy(o *web.Options) {
	o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// apiFrom calls the API with extra headers (X-Forwarded-For, Forwarded).
func (e *env) apiFrom(method, path string, headers map[string]string, body any) *response {
	e.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/api/v1/sites/live"+path, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.do(http.DefaultClient, req)
}

// signInFrom posts the API's sign-in with extra headers.
func (e *env) signInFrom(headers map[string]string, username, pw string) *response {
	e.t.Helper()
	return e.apiFrom("POST", "/login", headers, map[string]any{"username": username, "password": pw})
}

// pageFrom posts a form of the live site's pages, with extra headers, as a browser on the
// same origin would.
func (e *env) pageFrom(path string, headers map[string]string, form url.Values) *response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/live/"+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.do(http.DefaultClient, req)
}

// wantLimited checks a 429 answer: its Retry-After (seconds) and, for the API, its code.
func (r *response) wantLimited(retryAfter string) *response {
	r.t.Helper()
	if r.Status != http.StatusTooManyRequests {
		r.t.Fatalf("status %d, want 429; body %s", r.Status, r.Body)
	}
	if got := r.Header.Get("Retry-After"); got != retryAfter {
		r.t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && r.errorCode() != hmisauth.ERateLimited {
		r.t.Errorf("error %q, want rate_limited", r.errorCode())
	}
	return r
}

// events lists the audit events of an action on the live site, oldest first.
func (e *env) events(action string) []*hmisauth.Event {
	e.t.Helper()
	evs, err := e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

func TestTooManyFailedSignInsFromOneAddressAnswer429(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.RateLimits.SignInPerAddress = 3 }))
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	for range 5 { // signing in is never limited
		e.login("live", username, goodPassword)
	}
	for range 3 {
		e.expect(e.signInFrom(nil, username, "Wrong-Guess-1"), 401, "login_failed")
	}
	// 15:00 UTC is 9:00 in Chicago; the 15-minute window ends at 9:15.
	r := e.signInFrom(nil, username, goodPassword).wantLimited("900")
	if !strings.Contains(r.text(), "Too many sign-in attempts came from your network") ||
		!strings.Contains(r.text(), "Please try again at 9:15 AM CST (in 15 minutes).") {
		t.Errorf("API answer: %s", r.Body)
	}
	b := e.browser()
	page := b.signIn("live", username, goodPassword).wantLimited("900")
	page.wantText("<title>Too many attempts", "Too many sign-in attempts came from your network",
		"Please try again at 9:15 AM CST (in 15 minutes).", `href="/live/login"`)
	if c := b.cookie("hmisauth_live"); c != nil {
		t.Errorf("a refused sign-in set the session cookie %s", c.Name)
	}

	e.clock.Advance(10*time.Minute + 30*time.Second)
	e.signInFrom(nil, username, goodPassword).wantLimited("270").wantText("(in 5 minutes)")
	e.clock.Advance(4*time.Minute + 30*time.Second)
	e.login("live", username, goodPassword)
}

func TestSprayingUsernamesAnswers429AlikeForRealAndUnknownOnes(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.RateLimits.SprayUsernames = 3 }), behindProxy)
	real := e.activeUser("live", "Jane", "Doe", goodPassword)
	other := e.activeUser("live", "John", "Roe", goodPassword)
	// From two offices, the same spray: two usernames (one real), one of them twice; then a
	// third, which fills the window; then a fourth, real from one office and unknown from
	// the other.
	answers := map[string]*response{}
	for _, office := range []struct{ addr, fourth string }{{"203.0.113.7", other}, {"203.0.113.8", "nosuchuser"}} {
		from := map[string]string{"X-Forwarded-For": office.addr}
		for _, name := range []string{real, "someone", strings.ToUpper(real), "another"} {
			e.expect(e.signInFrom(from, name, "Summer2026!"), 401, "login_failed")
		}
		answers[office.addr] = e.signInFrom(from, office.fourth, "Summer2026!").wantLimited("900")
		e.pageFrom("login", from, url.Values{"username": {office.fourth}, "password": {"Summer2026!"}}).
			wantLimited("900").wantText("Too many sign-in attempts came from your network")
		// Even the right password of a username the office tried.
		e.signInFrom(from, real, goodPassword).wantLimited("900")
	}
	a, b := answers["203.0.113.7"], answers["203.0.113.8"]
	if a.text() != b.text() || a.Header.Get("Retry-After") != b.Header.Get("Retry-After") {
		t.Errorf("a real username answered %s, an unknown one %s", a.Body, b.Body)
	}
	// A third office is not affected.
	e.expect(e.signInFrom(map[string]string{"X-Forwarded-For": "203.0.113.9"}, real, goodPassword), 200, "")
	for _, ev := range e.events(hmisauth.EventLoginFailed) {
		if strings.HasPrefix(ev.Detail, "rate_limited") && ev.Detail != "rate_limited: too many usernames tried from this address" {
			t.Errorf("refusal logged as %q", ev.Detail)
		}
	}
}

// A client that is not a trusted proxy cannot choose the address it is counted and recorded
// under, whatever headers it sends.
func TestSpoofedForwardingHeadersFromAnUntrustedPeerChangeNothing(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.RateLimits.SignInPerAddress = 3 }))
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	spoofs := []map[string]string{
		{"X-Forwarded-For": "203.0.113.1"},
		{"Forwarded": "for=203.0.113.2"},
		{"X-Forwarded-For": "203.0.113.3, 127.0.0.1", "Forwarded": "for=203.0.113.3"},
		{"X-Forwarded-For": "203.0.113.4"},
	}
	e.expect(e.signInFrom(spoofs[0], username, goodPassword), 200, "")
	for _, h := range spoofs[1:] {
		e.expect(e.signInFrom(h, username, "Wrong-Guess-1"), 401, "login_failed")
	}
	// Each spoof claimed another address; all were counted under the one they came from.
	e.signInFrom(spoofs[0], username, goodPassword).wantLimited("900")
	e.pageFrom("login", spoofs[3], url.Values{"username": {username}, "password": {goodPassword}}).wantLimited("900")
	evs := append(e.events(hmisauth.EventLoginSucceeded), e.events(hmisauth.EventLoginFailed)...)
	if len(evs) < 5 {
		t.Fatalf("%d sign-in events", len(evs))
	}
	for _, ev := range evs {
		if ev.ClientAddr != "127.0.0.1" {
			t.Errorf("%s recorded from %q, want the socket's 127.0.0.1", ev.Action, ev.ClientAddr)
		}
	}
}

// Behind a trusted proxy, the client its header names is the one counted and recorded.
func TestForwardingHeadersFromATrustedProxyAreBelieved(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.RateLimits.SignInPerAddress = 3 }), behindProxy)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	office := map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"} // the left entry is the client's own claim
	e.expect(e.signInFrom(map[string]string{"X-Forwarded-For": "203.0.113.8"}, username, goodPassword), 200, "")
	for range 3 {
		e.expect(e.signInFrom(office, username, "Wrong-Guess-1"), 401, "login_failed")
	}
	e.signInFrom(map[string]string{"X-Forwarded-For": "203.0.113.7"}, username, goodPassword).wantLimited("900")
	e.signInFrom(map[string]string{"Forwarded": `for="203.0.113.7:4711";proto=https`}, username, goodPassword).wantLimited("900")
	// Other clients of the same proxy, and the proxy itself, are counted apart.
	e.expect(e.signInFrom(map[string]string{"X-Forwarded-For": "203.0.113.8"}, username, goodPassword), 200, "")
	e.expect(e.signInFrom(nil, username, goodPassword), 200, "")

	want := map[string][]string{
		hmisauth.EventLoginSucceeded: {"203.0.113.8", "203.0.113.8", "127.0.0.1"},
		hmisauth.EventLoginFailed:    {"203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.7"},
	}
	for action, addrs := range want {
		evs := e.events(action)
		evs = evs[len(evs)-len(addrs):] // after the user's set-up
		for i, ev := range evs {
			if ev.ClientAddr != addrs[i] {
				t.Errorf("%s #%d from %q, want %q (%s)", action, i+1, ev.ClientAddr, addrs[i], ev.Detail)
			}
		}
	}
}

func TestForgotPasswordOverTheLimitAnswers429(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.ResetLimits.PerAddress = 2 }))
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.expect(e.forgot("live", username), 202, "")
	e.expect(e.forgot("live", "nosuchuser"), 202, "")
	real := e.forgot("live", username).wantLimited("900")
	unknown := e.forgot("live", "nosuchuser").wantLimited("900")
	if real.text() != unknown.text() || !strings.Contains(real.text(), "Too many password-reset requests came from your network") {
		t.Errorf("real: %s\nunknown: %s", real.Body, unknown.Body)
	}
	e.browser().post("/live/forgot-password", url.Values{"username": {username}}).wantLimited("900").
		wantText("<title>Too many attempts", "Please try again at 9:15 AM CST (in 15 minutes).")
	if n := len(e.newMail()); n != 1 {
		t.Errorf("%d e-mails, want the one link asked for within the limit", n)
	}
	evs := e.events(hmisauth.EventResetRequested)
	if last := evs[len(evs)-1]; last.Detail != "refused: too many requests from this address" {
		t.Errorf("the refusal is logged as %+v", last)
	}
}

func TestGuessingResetLinksAnswers429(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) {
		p.RateLimits.ResetPerAddress = 2
		p.ResetLinkTTL = time.Hour // the link outlives the limit's window
	}))
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.linkFor("live", username)
	for range 3 { // a link that works is not counted
		e.expect(e.api("GET", "live", "/password/reset?token="+token, "", nil), 200, "")
	}
	e.expect(e.api("GET", "live", "/password/reset?token=guess-1", "", nil), 410, "token_invalid")
	e.expect(e.reset("live", "guess-2", otherPassword, otherPassword, ""), 410, "token_invalid")
	e.api("GET", "live", "/password/reset?token=guess-3", "", nil).wantLimited("900")
	e.browser().get("/live/reset-password?token="+token).wantLimited("900").
		wantText("Too many reset links that do not work were opened from your network", "9:15 AM CST")
	e.reset("live", token, otherPassword, otherPassword, "").wantLimited("900")
	e.clock.Advance(15 * time.Minute)
	e.expect(e.reset("live", token, otherPassword, otherPassword, ""), 204, "")
}

// A code typed on the second page is a guess like a password.
func TestSecondStepCodesCountTowardTheAddress(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.RateLimits.SignInPerAddress = 2 }))
	_, username, _, _ := e.totpUser()
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/login/verify")
	for range 2 {
		if r := b.post("/live/login/verify", url.Values{"code": {"000000"}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("a wrong code: %d", r.Status)
		}
	}
	// Setting the app up moved the clock on: the window ends in less than 15 minutes.
	now := e.clock.Now()
	wait := hmisauth.WindowEnd(now, 15*time.Minute).Sub(now)
	b.post("/live/login/verify", url.Values{"code": {"000000"}}).wantLimited(fmt.Sprint(int(wait.Seconds()))).
		wantText("Too many sign-in attempts came from your network")
}
