package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/oidc"
)

// oauth2ProxyApp is the application's name as registered here; the sign-in page names it.
const oauth2ProxyApp = "Shelter Bed Board"

// TestBrowserOAuth2Proxy signs a user in to an application that knows nothing of OpenID
// Connect: oauth2-proxy, a program nobody here wrote, stands in front of it. In real Chromium
// the user opens the application, lands on the site's sign-in page, gives the password and a
// code from the authenticator app, and reaches the application, which reads who it is from
// the headers the proxy adds.
func TestBrowserOAuth2Proxy(t *testing.T) {
	ctx := newChrome(t)
	exe := oauth2ProxyBinary(t)
	e := newEnv(t)
	// ID tokens carry the real time and the proxy checks them against it. The user set up the
	// app half a minute before signing in, so the code typed below is a new one.
	e.realTime()
	e.clock.Advance(-30 * time.Second)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	secret := e.apiTurnOnTOTP("live", username, goodPassword)
	e.clock.Advance(30 * time.Second)
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		t.Fatal(err)
	}

	upstream := httptest.NewServer(http.HandlerFunc(echoForwardedUser))
	t.Cleanup(upstream.Close)
	proxy := startOAuth2Proxy(t, e, exe, "live", upstream.URL)

	step, text, location := pageSteps(t, ctx, e)
	console := browserConsole(t, ctx)
	waitFor := func(what, sel string) {
		t.Helper()
		waitVisibleOrExplain(t, ctx, console, what, sel)
	}
	step("open the application", chromedp.Navigate(proxy.url+"/"))
	waitFor("the sign-in page", "#username")
	if got := location(); !strings.HasPrefix(got, "/live/login") {
		t.Fatalf("the application sent the browser to %s, want the site's sign-in page", got)
	}
	if s := text("#signin-for-app"); !strings.Contains(s, "Sign in to continue to "+oauth2ProxyApp) {
		t.Errorf("the sign-in page says %q", s)
	}
	screenshot(t, ctx, "oauth2-proxy-login.png")

	step("sign in with the password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)))
	waitFor("the 2-step verification page", `form[action="/live/login/verify"]`)
	if got := location(); got != "/live/login/verify" {
		t.Fatalf("after the password at %s, want /live/login/verify", got)
	}
	screenshot(t, ctx, "oauth2-proxy-verify.png")

	step("type the code the app shows",
		chromedp.SendKeys(chromedp.ID("code"), e.appCode(secret)),
		chromedp.Click(chromedp.CSS(`form[action="/live/login/verify"] button[type="submit"]`)))
	waitFor("the application", "#forwarded-email")
	if got := location(); !strings.HasPrefix(got, proxy.url+"/") {
		t.Errorf("signed in at %s, want the application at %s", got, proxy.url)
	}
	for sel, want := range map[string]string{
		"#forwarded-email":              "maria@agency.example.org",
		"#forwarded-preferred-username": username,
		"#forwarded-user":               u.Subject,
	} {
		if got := text(sel); got != want {
			t.Errorf("the application sees %s = %q, want %q", sel, got, want)
		}
	}
	screenshot(t, ctx, "oauth2-proxy-app.png")

	for _, action := range []string{hmisauth.EventAppSignIn, hmisauth.EventTokensIssued} {
		evs, err := e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Subject: username, Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || !strings.Contains(evs[0].Detail, oauth2ProxyApp) {
			t.Errorf("%s in the audit log: %+v", action, evs)
		}
	}
}

// apiTurnOnTOTP turns on the authenticator app for a user through the API and returns the
// secret the phone holds.
func (e *env) apiTurnOnTOTP(site, username, pw string) string {
	e.t.Helper()
	token := e.login(site, username, pw)
	var start struct{ Secret string }
	e.expect(e.api("POST", site, "/me/totp", token, nil), 200, "").decode(&start)
	e.expect(e.api("POST", site, "/me/totp/confirm", token, map[string]any{"code": e.appCode(start.Secret)}), 200, "")
	return start.Secret
}

// echoForwardedUser is the application behind the proxy: it shows who the proxy says the
// user is.
func echoForwardedUser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Bed board</title><h1>Bed board</h1><dl>")
	for _, h := range []string{"X-Forwarded-Email", "X-Forwarded-User", "X-Forwarded-Preferred-Username"} {
		fmt.Fprintf(w, "<dt>%s</dt><dd id=%q>%s</dd>", h, strings.ToLower(strings.TrimPrefix(h, "X-")), html.EscapeString(r.Header.Get(h)))
	}
	fmt.Fprintf(w, "</dl>")
}

// oauth2ProxyBinary finds the oauth2-proxy that scripts/install-test-deps.sh builds: where
// $HMISAUTH_OAUTH2_PROXY says (the Makefile sets it), else in the user's cache. Without it the
// test is skipped on a developer's machine and fails in CI, like a missing Chromium.
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("HMISAUTH_OAUTH2_PROXY")
	if path == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			path = filepath.Join(dir, "hmisauth-test-tools", "bin", "oauth2-proxy")
		}
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return path
	}
	msg := fmt.Sprintf("no oauth2-proxy at %q; scripts/install-test-deps.sh builds it (or set HMISAUTH_OAUTH2_PROXY)", path)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must run this test")
	}
	t.Skip(msg + "; it is required when CI=true")
	return ""
}

// oauth2Proxy is a running oauth2-proxy.
type oauth2Proxy struct {
	url    string
	output *syncBuffer
	exited chan struct{}
}

// startOAuth2Proxy registers oauth2-proxy as a confidential client of site and starts it in
// front of upstream on a free loopback port; it stops with the test. The port is chosen
// before the proxy takes it, so another program may take it first: then it tries again.
func startOAuth2Proxy(t *testing.T, e *env, exe, site, upstream string) *oauth2Proxy {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p, err := tryOAuth2Proxy(t, e, exe, site, upstream)
		if err == nil {
			return p
		}
		if attempt == 3 || !strings.Contains(p.output.String(), "address already in use") {
			t.Fatalf("oauth2-proxy did not start: %v\n%s", err, p.output)
		}
	}
}

func tryOAuth2Proxy(t *testing.T, e *env, exe, site, upstream string) (*oauth2Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &oauth2Proxy{url: "http://" + addr, output: &syncBuffer{}, exited: make(chan struct{})}
	c, secret, err := e.oidc.AddClient(setupCtx(), site, oidc.ClientSpec{Name: oauth2ProxyApp, HomeURL: p.url + "/",
		RedirectURIs: []string{p.url + "/oauth2/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	cookieSecret := make([]byte, 32)
	rand.Read(cookieSecret)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exe,
		"--provider=oidc",
		"--oidc-issuer-url="+e.srv.URL+"/"+site,
		"--client-id="+c.ID,
		"--client-secret="+secret,
		"--code-challenge-method=S256",
		"--scope=openid email profile hmis",
		// The site's e-mail claim says email_verified: false, since nobody proved the mailbox.
		"--insecure-oidc-allow-unverified-email",
		"--email-domain=*",
		"--redirect-url="+p.url+"/oauth2/callback",
		"--http-address="+addr,
		"--upstream="+upstream+"/",
		"--cookie-secret="+base64.URLEncoding.EncodeToString(cookieSecret),
		"--cookie-secure=false", // plain HTTP on loopback
		"--skip-provider-button",
	)
	cmd.Stdout, cmd.Stderr = p.output, p.output
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	stop := func() {
		cancel()
		<-p.exited
	}
	ready := func() bool {
		res, err := http.Get(p.url + "/ping")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	// A hang guard, not a measure: the proxy needs the discovery document and a moment.
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		select {
		case <-p.exited:
			cancel()
			return p, errors.New("it exited")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return p, errors.New("it did not answer /ping")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("oauth2-proxy output:\n%s", p.output)
		}
	})
	return p, nil
}

// browserConsole collects what the tab's console says (a blocked redirect, say) for the log
// of a failed test.
func browserConsole(t *testing.T, ctx context.Context) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	cctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	messages := chromedp.Console(cctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			fmt.Fprintf(out, "%s %s\n", m, m.URL)
		}
	}()
	return out
}

// waitVisibleOrExplain waits for sel on the page the browser ends at. When it does not come,
// the test fails with where the browser is, what it shows and what its console said: the
// page may be the proxy's, or a redirect may have been refused.
func waitVisibleOrExplain(t *testing.T, ctx context.Context, console *syncBuffer, what, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err == nil {
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	screenshot(t, ctx, "oauth2-proxy-failed.png")
	t.Fatalf("waiting for %s (%s): the browser is at %s, showing:\n%s\nconsole:\n%s", what, sel, loc, body, console)
}
