package web_test

// What a failed sign-in tells the person: how many tries remain before the lock (the same for
// every username), which site this is, and once locked, whom to call and whether "Forgot
// password" can help. Over real HTTP.

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// failSignIn posts a wrong password for username on the site's sign-in form.
func (b *browser) failSignIn(site, username string) *response {
	b.e.t.Helper()
	return b.post("/"+site+"/login", url.Values{"username": {username}, "password": {"Wrong-Pass-1"}})
}

func TestFailedSignInCountsDownToTheLock(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	b := e.browser()
	b.get("/live/login").lackText("more tries", "There is a problem", "<title>Error:")

	r := b.failSignIn("live", username)
	if r.Status != 401 {
		t.Errorf("first failure: status %d", r.Status)
	}
	reset := `href="/live/forgot-password?username=` + username + `">Reset your password instead</a>`
	r.wantText("<title>Error: Sign in – HMIS Live</title>", "There is a problem", "Login failed!",
		"You have 2 more tries before the account locks.", "Forgot your password? <a "+reset)
	r = b.failSignIn("live", username)
	r.wantText("Login failed!", "You have 1 more try before the account locks.", reset).lackText("more tries")

	// The link leads to the form with the username already typed.
	b.get("/live/forgot-password?username=" + username).wantText(`value="` + username + `"`).lackText("There is a problem")

	r = b.failSignIn("live", username)
	if r.Status != 423 {
		t.Fatalf("third failure: status %d", r.Status)
	}
	r.wantText("<h1>Your account is locked</h1>", "too many failed sign-in attempts").lackText("more try", "Login failed!", `name="password"`)
	if r := b.failSignIn("live", username); r.Status != 423 || !strings.Contains(r.text(), "Your account is locked") {
		t.Errorf("after the lock: status %d", r.Status)
	}
}

func TestLockedAnswerSaysWhomToCallAndWhetherForgotPasswordHelps(t *testing.T) {
	for _, resetUnlocks := range []bool{false, true} {
		sites := testSites()
		sites[0].Helpdesk.Phone = "(312) 555-0100 x12"
		sites[0].Policy.Lockout.ResetUnlocks = resetUnlocks
		e := newEnvSites(t, sites)
		username := e.activeUser("live", "Jane", "Doe", goodPassword)
		b := e.browser()
		for range 2 {
			b.failSignIn("live", username)
		}
		r := b.failSignIn("live", username)
		if r.Status != 423 {
			t.Fatalf("reset_unlocks=%v: status %d", resetUnlocks, r.Status)
		}
		r.wantText(`<a href="mailto:`+helpdeskEmail+`">`+helpdeskEmail+`</a>`,
			`<a href="tel:3125550100;ext=12">(312) 555-0100 x12</a>`, "(Mon-Fri 8-5)", "The helpdesk can unlock it.")
		if resetUnlocks {
			r.wantText(`<a href="/live/forgot-password?username=`+username+`">reset your password</a>`,
				"also unlocks your account").lackText("cannot help")
		} else {
			r.wantText("“Forgot password” cannot help while your account is locked: no reset link is sent until the helpdesk unlocks it.").
				lackText("forgot-password?username=")
		}
		// An unknown username locks and is answered alike.
		for range 3 {
			r = b.failSignIn("live", "nosuchuser")
		}
		if r.Status != 423 || !strings.Contains(r.text(), "Your account is locked") {
			t.Errorf("reset_unlocks=%v: unknown username, status %d", resetUnlocks, r.Status)
		}
	}
}

func TestLockedAnswerSaysWhenItUnlocksByItself(t *testing.T) {
	sites := testSites()
	sites[0].Policy.Lockout.AutoUnlockAfter = 30 * time.Minute
	e := newEnvSites(t, sites)
	b := e.browser()
	var r *response
	for range 3 {
		r = b.failSignIn("live", "jdoe")
	}
	r.wantText("Or wait: it unlocks by itself 30 minutes after it locked.", "no reset link is sent until it unlocks.")
}

func TestFailedSignInRemindsWhichSiteThisIs(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.failSignIn("live", "jdoe").wantText("This is HMIS Live; training accounts do not work here.")
	b.failSignIn("training", "jdoe").wantText("This is HMIS Training; live accounts do not work here.")
}

// The attempts-left answer must not tell an outsider whether the username exists: a real one
// and an unknown one get the same status, the same page (but for the username echoed back)
// and the same time, attempt after attempt, until both lock alike.
func TestAttemptsLeftAnswerIsTheSameForRealAndUnknownUsernames(t *testing.T) {
	e := newEnv(t)
	real := e.activeUser("live", "Jane", "Doe", goodPassword)
	ghost := "zz" + real[2:] // as long as the real one, so even the lengths match
	if _, err := e.store.User(t.Context(), "live", ghost); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
		t.Fatalf("%s exists: %v", ghost, err)
	}
	b := e.browser()
	for attempt := 1; attempt <= 4; attempt++ {
		a, g := b.failSignIn("live", real), b.failSignIn("live", ghost)
		aBody := strings.ReplaceAll(a.text(), real, "USERNAME")
		gBody := strings.ReplaceAll(g.text(), ghost, "USERNAME")
		if a.Status != g.Status || aBody != gBody {
			t.Errorf("attempt %d: real %d, unknown %d; bodies differ:\n%s\n----\n%s", attempt, a.Status, g.Status, aBody, gBody)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "Set-Cookie"} {
			if a.Header.Get(h) != g.Header.Get(h) {
				t.Errorf("attempt %d: header %s: %q vs %q", attempt, h, a.Header.Get(h), g.Header.Get(h))
			}
		}
	}
	// The API answers alike too, with the count.
	sites := testSites()
	sites[0].Policy.Lockout.Threshold = 3
	e = newEnvSites(t, sites)
	real = e.activeUser("live", "Jane", "Doe", goodPassword)
	for _, u := range []string{real, "zz" + real[2:]} {
		r := e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": u, "password": "Wrong-Pass-1"}), 401, "login_failed")
		if got := strings.TrimSpace(r.text()); got != `{"error":"login_failed","message":"Login failed!","attempts_left":2}` {
			t.Errorf("%s: %s", u, got)
		}
	}
}

// The same in time: a real username with a wrong password and an unknown one each cost one
// password hash, so their medians over many tries are alike. The tolerance is generous (the
// machine is shared) but not so wide that a path without its hash would pass: the hash is most
// of a failed sign-in's time.
func TestAttemptsLeftAnswerTakesTheSameTimeForRealAndUnknownUsernames(t *testing.T) {
	const tries = 25
	sites := testSites()
	sites[0].Policy.Lockout.Threshold = 2*tries + 1 // never locks here: both take the counted path
	e := newEnvSites(t, sites)
	real := e.activeUser("live", "Jane", "Doe", goodPassword)
	ghost := "zz" + real[2:]
	b := e.browser()
	var realTimes, ghostTimes []time.Duration
	timed := func(username string) time.Duration {
		start := time.Now()
		if r := b.failSignIn("live", username); r.Status != 401 {
			t.Fatalf("%s: status %d", username, r.Status)
		}
		return time.Since(start)
	}
	b.failSignIn("live", "warm-up")
	for i := range tries {
		// Interleaved, and alternating which goes first, so a slow moment hits both alike.
		if i%2 == 0 {
			realTimes, ghostTimes = append(realTimes, timed(real)), append(ghostTimes, timed(ghost))
		} else {
			ghostTimes, realTimes = append(ghostTimes, timed(ghost)), append(realTimes, timed(real))
		}
	}
	mr, mg := median(realTimes), median(ghostTimes)
	slow, fast := max(mr, mg), min(mr, mg)
	t.Logf("median: real %v, unknown %v", mr, mg)
	if slow > fast*3/2+time.Millisecond {
		t.Errorf("real username median %v, unknown %v: the difference tells them apart", mr, mg)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestRateLimitedSignInSaysWhenAndWhomToCall(t *testing.T) {
	e := newEnvSites(t, limitedSites(func(p *hmisauth.Policy) { p.RateLimits.SignInPerAddress = 2 }))
	b := e.browser()
	b.failSignIn("live", "jdoe")
	b.failSignIn("live", "jdoe")
	r := b.failSignIn("live", "jdoe").wantLimited("900")
	r.wantText("<h1>Too many attempts</h1>", "Please try again at 9:15 AM CST (in 15 minutes).",
		"This pause does not lock your account.", "Cannot wait?", `href="mailto:`+helpdeskEmail+`"`,
		`href="tel:5550100"`, "(Mon-Fri 8-5)")
}
