package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth/oidc"
)

// oauthErrors are the error codes an OAuth 2.0 / OpenID Connect endpoint may answer with.
var oauthErrors = map[string]bool{"invalid_request": true, "invalid_client": true, "invalid_grant": true,
	"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true, "access_denied": true,
	"unsupported_response_type": true, "login_required": true, "interaction_required": true,
	"request_not_supported": true, "invalid_request_uri": true, "invalid_request_object": true}

// FuzzAuthorizeRequest sends arbitrary authorization requests (and sign-in step and sign-out
// requests) as a browser would. Whatever comes, the answer is never a server error, and a
// redirect goes only to this server or to the client's registered address: never to an
// address an attacker put in the request.
func FuzzAuthorizeRequest(f *testing.F) {
	e := newEnv(f)
	e.realTime()
	c, _, err := e.oidc.AddClient(setupCtx(), "live", oidc.ClientSpec{Name: "Fuzz App",
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"}})
	if err != nil {
		f.Fatal(err)
	}
	good := "http://127.0.0.1:9/callback"
	for _, seed := range [][]string{
		{"oidc/authorize", c.ID, good, "code", "openid profile", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256", "", "", "query"},
		{"oidc/authorize", c.ID, good, "code", "openid hmis offline_access", "x", "plain", "none", "0", ""},
		{"oidc/authorize", c.ID, "https://evil.example/cb", "code", "openid", "", "", "login", "-1", "form_post"},
		{"oidc/authorize", c.ID, good, "token id_token", "openid", "", "", "none login", "abc", "fragment"},
		{"oidc/authorize", "nobody", good, "code", "", "", "", "", "", ""},
		{"continue", "", "", "", "", "", "", "", "", ""},
		{"oidc/end_session", c.ID, "http://127.0.0.1:9/bye", "", "", "", "", "", "", ""},
		{"oidc/end_session", "", "https://evil.example/", "", "", "", "", "", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6], seed[7], seed[8], seed[9])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, path, clientID, redirectURI, responseType, scope, challenge, method, prompt, maxAge, mode string) {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {responseType},
			"scope": {scope}, "code_challenge": {challenge}, "code_challenge_method": {method}, "prompt": {prompt},
			"max_age": {maxAge}, "response_mode": {mode}, "state": {"s"}, "nonce": {"n"}, "request": {challenge},
			"post_logout_redirect_uri": {redirectURI}, "id_token_hint": {challenge}}
		switch path {
		case "oidc/authorize", "continue", "oidc/end_session", "login":
		default:
			path = "oidc/authorize"
		}
		res, err := client.Get(e.srv.URL + "/live/" + path + "?" + q.Encode())
		if err != nil {
			t.Skip()
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %v: status %d", path, q, res.StatusCode)
		}
		if loc := res.Header.Get("Location"); loc != "" {
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("redirect to an unparsable %q", loc)
			}
			if u.Host != "" && u.Host != "127.0.0.1:9" && !strings.HasPrefix(e.srv.URL, u.Scheme+"://"+u.Host) {
				t.Fatalf("%s %v redirects to %s", path, q, loc)
			}
			if u.Host == "127.0.0.1:9" && !strings.HasPrefix(loc, good) && !strings.HasPrefix(loc, "http://127.0.0.1:9/bye") {
				t.Fatalf("%s %v redirects to an unregistered address %s", path, q, loc)
			}
		}
	})
}

// FuzzTokenRequest posts arbitrary token requests. The answer is JSON with a standard OAuth
// error, or tokens; never a server error, and never tokens for a made-up code or refresh token.
func FuzzTokenRequest(f *testing.F) {
	e := newEnv(f)
	e.realTime()
	c, secret, err := e.oidc.AddClient(setupCtx(), "live", oidc.ClientSpec{Name: "Fuzz App",
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]string{
		{"authorization_code", "not-a-code", "http://127.0.0.1:9/callback", "verifier", c.ID, secret, "basic"},
		{"authorization_code", "", "", "", c.ID, "wrong", "post"},
		{"refresh_token", "not-a-refresh-token", "", "", c.ID, secret, "basic"},
		{"refresh_token", "", "", "", "", "", "none"},
		{"client_credentials", "", "", "", c.ID, secret, "post"},
		{"urn:ietf:params:oauth:grant-type:jwt-bearer", "eyJhbGciOiJub25lIn0.e30.", "", "", c.ID, secret, "basic"},
		{"password", "jdoe", "", "", c.ID, secret, "basic"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6])
	}
	f.Fuzz(func(t *testing.T, grant, codeOrToken, redirectURI, verifier, clientID, clientSecret, how string) {
		form := url.Values{"grant_type": {grant}, "code": {codeOrToken}, "refresh_token": {codeOrToken},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}, "assertion": {codeOrToken},
			"username": {codeOrToken}, "password": {verifier}}
		if how == "post" {
			form.Set("client_id", clientID)
			form.Set("client_secret", clientSecret)
		} else if how == "none" {
			form.Set("client_id", clientID)
		}
		req, err := http.NewRequest("POST", e.srv.URL+"/live/oidc/token", strings.NewReader(form.Encode()))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if how == "basic" {
			req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Skip()
		}
		defer res.Body.Close()
		var answer struct {
			Error       string `json:"error"`
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
			t.Fatalf("%v: status %d, not JSON: %v", form, res.StatusCode, err)
		}
		switch {
		case res.StatusCode >= 500:
			t.Fatalf("%v: status %d (%s)", form, res.StatusCode, answer.Error)
		case res.StatusCode == http.StatusOK || answer.AccessToken != "":
			t.Fatalf("%v: tokens for a made-up grant", form)
		case !oauthErrors[answer.Error]:
			t.Fatalf("%v: status %d with error %q", form, res.StatusCode, answer.Error)
		}
	})
}
