package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOIDFBasicPlan walks the OpenID Foundation's basic OP certification plan
// (oidcc-basic-certification-test-plan) module by module, each a subtest of the module's
// name, with go-oidc and x/oauth2 as the relying party. docs/INTEGRATION.md lists every
// module with the test that covers it, or why it does not apply (dynamic registration,
// request objects).
func TestOIDFBasicPlan(t *testing.T) {
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	e.expect(e.api("PATCH", "live", "/me", e.login("live", username, goodPassword), map[string]any{"phone": "555-0142"}), 200, "")
	rp := newRelyingParty(t, e, "live")
	ctx := context.Background()

	// signedIn is a browser signed in to the site already.
	signedIn := func(t *testing.T) *browser {
		b := e.ssoBrowser()
		b.post("/live/login", url.Values{"username": {username}, "password": {goodPassword}}).wantPath("/live/account")
		return b
	}
	// flow runs a code flow with extra authorization parameters in a signed-in browser and
	// returns the application's sign-in.
	flow := func(t *testing.T, b *browser, opts ...oauth2.AuthCodeOption) *signIn {
		t.Helper()
		rp.mu.Lock()
		before := len(rp.results)
		rp.mu.Unlock()
		r := b.open(rp.authURL(opts...))
		if r.URL.Path == "/live/login" {
			r = b.signInFor(r, username, goodPassword)
		}
		rp.mu.Lock()
		after := len(rp.results)
		rp.mu.Unlock()
		if after == before {
			t.Fatalf("no sign-in; the browser is at %s (%d): %.300s", r.URL, r.Status, r.Body)
		}
		return rp.lastSignIn()
	}
	// refused runs an authorization request that must come back to the application with an
	// OAuth error, or stop at an error page here; it returns the error code ("" for a page).
	refused := func(t *testing.T, q url.Values) string {
		t.Helper()
		client := &http.Client{Jar: signedIn(t).c.Jar,
			CheckRedirect: func(req *http.Request, _ []*http.Request) error {
				if strings.HasPrefix(req.URL.String(), rp.srv.URL) {
					return http.ErrUseLastResponse
				}
				return nil
			}}
		res, err := client.Get(e.srv.URL + "/live/oidc/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if loc := res.Header.Get("Location"); loc != "" {
			if !strings.HasPrefix(loc, rp.srv.URL+"/callback?") {
				t.Fatalf("redirected to %s", loc)
			}
			return mustQuery(t, loc, "error")
		}
		if res.StatusCode < 400 {
			t.Fatalf("status %d without a redirect", res.StatusCode)
		}
		return ""
	}
	base := func() url.Values {
		return url.Values{"client_id": {rp.client.ID}, "redirect_uri": {rp.srv.URL + "/callback"},
			"response_type": {"code"}, "scope": {"openid"}, "state": {"st"}}
	}
	userinfo := func(t *testing.T, req *http.Request) map[string]any {
		t.Helper()
		r := e.do(http.DefaultClient, req)
		if r.Status != http.StatusOK {
			t.Fatalf("userinfo: %d %s", r.Status, r.Body)
		}
		var m map[string]any
		r.decode(&m)
		return m
	}

	t.Run("oidcc-server", func(t *testing.T) {
		s := flow(t, signedIn(t))
		if s.idToken.Issuer != e.srv.URL+"/live" || s.claims["sub"] == "" {
			t.Errorf("ID token %+v", s.claims)
		}
	})
	t.Run("oidcc-response-type-missing", func(t *testing.T) {
		q := base()
		q.Del("response_type")
		if code := refused(t, q); code != "" && code != "invalid_request" && code != "unsupported_response_type" {
			t.Errorf("error %q", code)
		}
	})
	t.Run("oidcc-userinfo-get", func(t *testing.T) {
		s := flow(t, signedIn(t))
		req, _ := http.NewRequest("GET", e.srv.URL+"/live/oidc/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+s.token.AccessToken)
		if m := userinfo(t, req); m["sub"] != s.claims["sub"] {
			t.Errorf("sub %v", m["sub"])
		}
	})
	t.Run("oidcc-userinfo-post-header", func(t *testing.T) {
		s := flow(t, signedIn(t))
		req, _ := http.NewRequest("POST", e.srv.URL+"/live/oidc/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+s.token.AccessToken)
		userinfo(t, req)
	})
	t.Run("oidcc-userinfo-post-body", func(t *testing.T) {
		s := flow(t, signedIn(t))
		req, _ := http.NewRequest("POST", e.srv.URL+"/live/oidc/userinfo",
			strings.NewReader(url.Values{"access_token": {s.token.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		userinfo(t, req)
	})
	t.Run("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(t *testing.T) {
		b := signedIn(t)
		client := *b.c
		client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), rp.srv.URL) {
				return http.ErrUseLastResponse
			}
			return nil
		}
		q := base()
		res, err := client.Get(e.srv.URL + "/live/oidc/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if code := mustQuery(t, res.Header.Get("Location"), "code"); code == "" {
			t.Fatalf("no code without a nonce: %s", res.Header.Get("Location"))
		}
	})
	for _, sc := range []struct{ module, scope, claim string }{
		{"oidcc-scope-profile", "profile", "preferred_username"},
		{"oidcc-scope-email", "email", "email"},
		{"oidcc-scope-address", "address", ""},
		{"oidcc-scope-phone", "phone", "phone_number"},
		{"oidcc-scope-all", "profile email address phone", "email"},
		{"oidcc-ensure-other-scope-order-succeeds", "email openid", "email"},
	} {
		t.Run(sc.module, func(t *testing.T) {
			s := flow(t, signedIn(t), oauth2.SetAuthURLParam("scope", "openid "+sc.scope))
			info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(s.token))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			info.Claims(&m)
			if sc.claim != "" && m[sc.claim] == nil {
				t.Errorf("userinfo for %q lacks %s: %v", sc.scope, sc.claim, m)
			}
		})
	}
	for _, p := range []struct{ module, key, value string }{
		{"oidcc-display-page", "display", "page"},
		{"oidcc-display-popup", "display", "popup"},
		{"oidcc-ensure-request-with-unknown-parameter-succeeds", "extra", "foobar"},
		{"oidcc-ui-locales", "ui_locales", "se"},
		{"oidcc-claims-locales", "claims_locales", "se"},
		{"oidcc-ensure-request-with-acr-values-succeeds", "acr_values", "1 2"},
		{"oidcc-claims-essential", "claims", `{"userinfo":{"name":{"essential":true}}}`},
		{"oidcc-max-age-10000", "max_age", "10000"},
	} {
		t.Run(p.module, func(t *testing.T) {
			flow(t, signedIn(t), oauth2.SetAuthURLParam(p.key, p.value))
		})
	}
	t.Run("oidcc-prompt-login", func(t *testing.T) {
		b := signedIn(t)
		e.clock.Advance(time.Second)
		r := b.open(rp.authURL(oauth2.SetAuthURLParam("prompt", "login")))
		r.wantPath("/live/login")
		b.signInFor(r, username, goodPassword)
		rp.lastSignIn()
	})
	t.Run("oidcc-prompt-none-not-logged-in", func(t *testing.T) {
		q := base()
		q.Set("prompt", "none")
		res, err := (&http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), rp.srv.URL) {
				return http.ErrUseLastResponse
			}
			return nil
		}, Jar: e.ssoBrowser().c.Jar}).Get(e.srv.URL + "/live/oidc/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := mustQuery(t, res.Header.Get("Location"), "error"); got != "login_required" {
			t.Errorf("error %q", got)
		}
	})
	t.Run("oidcc-prompt-none-logged-in", func(t *testing.T) {
		flow(t, signedIn(t), oauth2.SetAuthURLParam("prompt", "none"))
	})
	t.Run("oidcc-max-age-1", func(t *testing.T) {
		b := signedIn(t)
		first := flow(t, b)
		e.clock.Advance(2 * time.Second)
		time.Sleep(1100 * time.Millisecond) // auth_time has whole seconds
		r := b.open(rp.authURL(oauth2.SetAuthURLParam("max_age", "1")))
		r.wantPath("/live/login")
		b.signInFor(r, username, goodPassword)
		if s := rp.lastSignIn(); s.claims["auth_time"] == first.claims["auth_time"] {
			t.Error("auth_time did not change after the sign-in max_age asked for")
		}
	})
	t.Run("oidcc-id-token-hint", func(t *testing.T) {
		b := signedIn(t)
		first := flow(t, b)
		flow(t, b, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", first.rawID))
	})
	t.Run("oidcc-login-hint", func(t *testing.T) {
		r := e.ssoBrowser().open(rp.authURL(oauth2.SetAuthURLParam("login_hint", username)))
		r.wantPath("/live/login").wantText(`value="` + username + `"`)
	})
	t.Run("oidcc-codereuse", func(t *testing.T) {
		// TestACodeWorksOnceAndItsReplayRevokesItsTokens: the second redemption fails and the
		// tokens of the first are revoked.
		TestACodeWorksOnceAndItsReplayRevokesItsTokens(t)
	})
	t.Run("oidcc-codereuse-30seconds", func(t *testing.T) {
		TestACodeWorksOnceAndItsReplayRevokesItsTokens(t) // the time between does not matter
	})
	t.Run("oidcc-ensure-registered-redirect-uri", func(t *testing.T) {
		q := base()
		q.Set("redirect_uri", "https://evil.example/callback")
		if code := refused(t, q); code != "" {
			t.Errorf("an unregistered redirect address was followed with error %q", code)
		}
	})
	t.Run("oidcc-ensure-redirect-uri-in-authorization-request", func(t *testing.T) {
		q := base()
		q.Del("redirect_uri")
		if code := refused(t, q); code != "" {
			t.Errorf("a request without redirect_uri was redirected with %q", code)
		}
	})
	t.Run("oidcc-server-rotate-keys", func(t *testing.T) {
		b := signedIn(t)
		first := flow(t, b)
		kid, err := e.oidc.RotateKeys(setupCtx(), "live")
		if err != nil {
			t.Fatal(err)
		}
		// The same go-oidc verifier, with the key set it cached, checks a token of the new
		// key: it was published before it signed.
		s := flow(t, b)
		var header struct{ Kid string }
		decodeJWTHeader(t, s.rawID, &header)
		var firstHeader struct{ Kid string }
		decodeJWTHeader(t, first.rawID, &firstHeader)
		if header.Kid != kid || header.Kid == firstHeader.Kid {
			t.Errorf("after the rotation the ID token is signed by %q (rotated to %q, before %q)", header.Kid, kid, firstHeader.Kid)
		}
		if _, err := rp.verifier.Verify(ctx, first.rawID); err != nil {
			t.Errorf("a token of the previous key no longer verifies: %v", err)
		}
	})
	t.Run("oidcc-ensure-post-request-succeeds", func(t *testing.T) {
		b := signedIn(t)
		authURL, _ := url.Parse(rp.authURL())
		req, _ := http.NewRequest("POST", e.srv.URL+"/live/oidc/authorize", strings.NewReader(authURL.RawQuery))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rp.mu.Lock()
		before := len(rp.results)
		rp.mu.Unlock()
		if r := b.e.do(b.c, req); r.URL.Host != strings.TrimPrefix(rp.srv.URL, "http://") {
			t.Fatalf("a POSTed authorization request ended at %s (%d)", r.URL, r.Status)
		}
		rp.mu.Lock()
		after := len(rp.results)
		rp.mu.Unlock()
		if after != before+1 {
			t.Fatal("no sign-in")
		}
	})
	t.Run("oidcc-refresh-token", func(t *testing.T) {
		s := flow(t, signedIn(t))
		tok := *s.token
		tok.Expiry = time.Now().Add(-time.Minute)
		if _, err := rp.conf.TokenSource(ctx, &tok).Token(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", func(t *testing.T) {
		q := base()
		q.Set("request", "eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6ImZvbyJ9.")
		if code := refused(t, q); code != "request_not_supported" && code != "invalid_request" {
			t.Errorf("an unsigned request object: error %q", code)
		}
	})
	t.Run("oidcc-request-uri-unsigned", func(t *testing.T) {
		q := base()
		q.Set("request_uri", "https://rp.example/request.jwt")
		// Discovery says request_uri_parameter_supported: false; the suite then expects a
		// refusal, to the application or on an error page.
		if code := refused(t, q); code != "" && code != "request_uri_not_supported" && code != "invalid_request" {
			t.Errorf("a request_uri: error %q", code)
		}
	})
}

// decodeJWTHeader reads a compact JWT's header.
func decodeJWTHeader(t *testing.T, raw string, v any) {
	t.Helper()
	part, _, _ := strings.Cut(raw, ".")
	b, err := decodeSegment(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
