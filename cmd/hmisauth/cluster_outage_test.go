package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
)

// TestDatabaseOutage stops the PostgreSQL server under a running hmisauth and starts it again:
// meanwhile every answer is a quick 503 that says what happened (never a hang, never a 500),
// /readyz says not ready, and once the database is back everything works again without a
// restart and nothing acknowledged is lost.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	pgtest.ServerURL(t) // the PostgreSQL tests' switch: skipped like the others without it
	pg := pgtest.NewServer(t)
	database := pg.URL()
	sink := startSMTPSink(t)
	p := startProc(t, "server", t.TempDir(), "", clusterEnv(database, sink))
	adminName, adminTemp := p.firstAdmin()
	admin := setUpAdmin(t, p.base, adminName, adminTemp)
	var before newUser
	must(t, http.StatusCreated, p.base, "POST", "/users", admin, map[string]string{"first_name": "Bea", "last_name": "Before",
		"email": "bea@agency.example.org"}).decode(&before)
	const userPassword = "Maple-Window-47!"
	if _, err := firstSignIn(p.base, before.Username, before.TemporaryPassword, userPassword); err != nil {
		t.Fatal(err)
	}
	browser := browserSession(t, p.base, before.Username, userPassword)

	// Light load all along: every answer must be a success or a proper 503, and bounded. A
	// request begun and ended while the database is up (before the stop, after /readyz is
	// back) must succeed.
	quick := &http.Client{Timeout: 10 * time.Second}
	type loaded struct {
		answer
		phases  [2]int32 // at the start and the end: 0 before the stop, 1 the outage, 2 after
		elapsed time.Duration
	}
	var phase atomic.Int32
	var answers []loaded
	var loadMu sync.Mutex
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			l := loaded{phases: [2]int32{phase.Load()}}
			start := time.Now()
			if i%2 == 0 {
				l.answer = callWith(quick, p.base, "GET", "/me", admin, nil)
			} else {
				l.answer = callWith(quick, p.base, "POST", "/login", "", map[string]string{"username": before.Username, "password": userPassword})
			}
			l.elapsed, l.phases[1] = time.Since(start), phase.Load()
			loadMu.Lock()
			answers = append(answers, l)
			loadMu.Unlock()
		}
	}()
	time.Sleep(500 * time.Millisecond)

	phase.Store(1)
	pg.Stop()
	stoppedAt := time.Now()
	waitReadyz(t, p.base, http.StatusServiceUnavailable)

	// Each kind of request answers 503 "unavailable" with Retry-After, within the client's
	// bound.
	for _, c := range []struct {
		method, path, token string
		body                any
	}{
		{"POST", "/login", "", map[string]string{"username": before.Username, "password": userPassword}},
		{"GET", "/me", admin, nil},
		{"POST", "/users", admin, map[string]string{"first_name": "Ola", "last_name": "Outage"}},
		{"GET", "/users/" + before.Username, admin, nil},
		{"POST", "/password/forgot", "", map[string]string{"username": before.Username}},
	} {
		ans := callWith(quick, p.base, c.method, c.path, c.token, c.body)
		if ans.err != nil || ans.status != http.StatusServiceUnavailable || ans.code() != hmisauth.EUnavailable || ans.header.Get("Retry-After") == "" {
			t.Errorf("%s %s during the outage: %v (Retry-After %q); want 503 unavailable with Retry-After",
				c.method, c.path, ans, ans.header.Get("Retry-After"))
		}
	}
	// Pages say what happened, on a page of their own, and keep the browser's session: it is
	// neither used nor ended, and must not look ended.
	for _, c := range []struct{ method, path string }{
		{"POST", "/live/login"},
		{"GET", "/live/account"},
		{"GET", "/live/login"},
		{"GET", "/live/logout"},
		{"POST", "/live/logout"},
		{"GET", "/live/oidc/end_session"}, // an application's sign-out
	} {
		status, page, header := browser.do(quick, c.method, c.path, url.Values{"username": {before.Username}, "password": {userPassword}})
		if status != http.StatusServiceUnavailable || !strings.Contains(page, "database") || strings.Contains(page, "Internal error") {
			t.Errorf("page %s %s during the outage answered %d:\n%s", c.method, c.path, status, pageText(page))
		}
		if header.Get("Retry-After") == "" {
			t.Errorf("page %s %s during the outage has no Retry-After", c.method, c.path)
		}
		for _, ck := range (&http.Response{Header: header}).Cookies() {
			if ck.Name == browser.cookie.Name && (ck.Value == "" || ck.MaxAge < 0) {
				t.Errorf("page %s %s during the outage dropped the session cookie: %s", c.method, c.path, ck)
			}
		}
	}
	// Several seconds down in all.
	time.Sleep(time.Until(stoppedAt.Add(4 * time.Second)))
	if !p.alive() {
		t.Fatalf("the server process died during the outage:\n%s", p.out.String())
	}

	pg.Start()
	waitReadyz(t, p.base, http.StatusOK)
	phase.Store(2)
	time.Sleep(time.Second)
	close(stop)
	<-loadDone

	// Back without a restart: the sessions from before, the users from before, new changes.
	must(t, http.StatusOK, p.base, "GET", "/me", admin, nil)
	signIn(t, p.base, before.Username, userPassword)
	if status, page, _ := browser.do(quick, "GET", "/live/account", nil); status != http.StatusOK {
		t.Errorf("the browser's session after the outage: %d\n%s", status, pageText(page))
	}
	must(t, http.StatusOK, p.base, "GET", "/users/"+before.Username, admin, nil)
	var after newUser
	must(t, http.StatusCreated, p.base, "POST", "/users", admin, map[string]string{"first_name": "Al", "last_name": "After",
		"email": "al@agency.example.org"}).decode(&after)
	must(t, http.StatusAccepted, p.base, "POST", "/password/forgot", "", map[string]string{"username": after.Username})
	sink.resetToken(t, "al@agency.example.org", 0, 60*time.Second)

	outage, slowest := 0, time.Duration(0)
	for _, l := range answers {
		slowest = max(slowest, l.elapsed)
		switch {
		case l.err != nil:
			t.Errorf("a request under load failed after %s: %v", l.elapsed, l.err)
		case l.status == http.StatusServiceUnavailable && l.phases != [2]int32{0, 0} && l.phases != [2]int32{2, 2}:
			outage++
			if l.code() != hmisauth.EUnavailable || l.header.Get("Retry-After") == "" {
				t.Errorf("a 503 under load: %v (Retry-After %q)", l.answer, l.header.Get("Retry-After"))
			}
		case l.status != http.StatusOK:
			t.Errorf("a request under load (phases %v) answered %v", l.phases, l.answer)
		}
	}
	t.Logf("%d requests under load, %d answered 503 during the outage; the slowest took %s", len(answers), outage, slowest)
	if !p.alive() {
		t.Fatal("the server process died")
	}
	waitOutboxSent(t, database, 60*time.Second)
	checkAudit(dbCLI(t, t.TempDir(), database))
}

// waitReadyz polls /readyz (each request bounded) until it answers want.
func waitReadyz(t *testing.T, base string, want int) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("/readyz: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == want {
			return
		}
		last = resp.Status
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz did not answer %d within 60s (last %s)", want, last)
}
