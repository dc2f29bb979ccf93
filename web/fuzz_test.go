package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth/web"
)

// FuzzAPIRequests sends arbitrary bodies, content types and tokens to the JSON API. Whatever
// arrives, the answer is JSON with a known error code and never a server error: bad input gets
// a clear refusal, not a crash or "Internal error.".
func FuzzAPIRequests(f *testing.F) {
	e := newEnv(f)
	username := e.activeUser("live", "Jane", "Doe", goodPassword)
	token := e.login("live", username, goodPassword)
	for _, seed := range []struct{ path, ctype, body, token string }{
		{"/login", "application/json", `{"username":"` + username + `","password":"x"}`, ""},
		{"/login", "application/json", `{"username":1}`, ""},
		{"/login", "text/plain", `{}`, ""},
		{"/me/password", "application/json", `{"new_password":"a","confirm_password":"b"}`, token},
		{"/me/terms", "application/json", `{"version":"1"}`, token},
		{"/me/terms", "application/json", `{"version":1}{}`, "not-a-token"},
		{"/password/forgot", "application/json", `{"username":"` + username + `"}`, ""},
		{"/password/forgot", "application/json", `{"username":["x"]}`, ""},
		{"/password/reset", "application/json", `{"token":"x","new_password":"a","confirm_password":"a"}`, ""},
		{"/password/reset", "application/json", `{"token":null,"security_answer":7}`, ""},
		{"/login", "application/json", `{"username":"` + username + `","password":"` + goodPassword + `","totp_code":"12 34-56"}`, ""},
		{"/me/reauth", "application/json", `{"password":"` + goodPassword + `"}`, token},
		{"/me/reauth", "application/json", `{"password":7}`, token},
		{"/me/totp/confirm", "application/json", `{"code":"000000"}`, token},
		{"/me/totp/confirm", "application/json", `{"code":["x"]}`, token},
	} {
		f.Add(seed.path, seed.ctype, seed.body, seed.token)
	}
	paths := map[string]bool{"/login": true, "/logout": true, "/me/password": true, "/me/terms": true,
		"/password/forgot": true, "/password/reset": true, "/me/reauth": true, "/me/totp": true,
		"/me/totp/confirm": true, "/me/totp/recovery-codes": true}
	f.Fuzz(func(t *testing.T, path, ctype, body, tok string) {
		if !paths[path] {
			path = "/login"
		}
		req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/sites/live"+path, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", ctype)
		if tok != "" && !strings.ContainsAny(tok, "\r\n\x00") {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Skip() // a header the client itself refuses to send
		}
		defer res.Body.Close()
		if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s %q: status %d", path, body, res.StatusCode)
		}
		if res.StatusCode >= 400 {
			var answer struct{ Error, Message string }
			if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || answer.Error == "" || answer.Message == "" {
				t.Fatalf("%s %q: status %d without a JSON error (%v)", path, body, res.StatusCode, err)
			}
			if web.StatusOf(answer.Error) == 0 {
				t.Fatalf("unknown error code %q", answer.Error)
			}
		}
	})
}

// FuzzLoginForm posts arbitrary sign-in forms: the page always answers with a page, never a
// server error, and nothing typed is echoed back as markup.
func FuzzLoginForm(f *testing.F) {
	e := newEnv(f)
	f.Add("jdoe", "Wrong-1!")
	f.Add("", "")
	f.Add("<script>alert(1)</script>", "x")
	f.Add(strings.Repeat("a", 500), "\x00")
	f.Fuzz(func(t *testing.T, username, password string) {
		res, err := http.PostForm(e.srv.URL+"/live/login", url.Values{"username": {username}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d for %q", res.StatusCode, username)
		}
		var page strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			page.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if strings.Contains(username, "<") && strings.Contains(page.String(), username) {
			t.Fatalf("username echoed unescaped: %q", username)
		}
	})
}
