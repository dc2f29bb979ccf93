package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// These tests back OWASP ASVS 5.0 rows of docs/SECURITY.md about what the pages do with
// passwords.

var (
	inputTag  = regexp.MustCompile(`<input\b[^>]*>`)
	attribute = regexp.MustCompile(`\s([a-z-]+)(?:="([^"]*)")?`)
)

// passwordInputs returns the attributes of every input on the page whose name holds
// "password" (current_password, new_password, confirm_password, password).
func passwordInputs(body string) []map[string]string {
	var out []map[string]string
	for _, tag := range inputTag.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attribute.FindAllStringSubmatch(strings.TrimSuffix(tag[len("<input"):], ">"), -1) {
			attrs[m[1]] = m[2]
		}
		if strings.Contains(attrs["name"], "password") {
			out = append(out, attrs)
		}
	}
	return out
}

// ASVS 6.2.6 and 6.2.7 (and 6.2.9 in the browser): every field a password is typed into is
// masked, tells password managers what it holds, and neither caps the length nor stops paste.
func TestPasswordFieldsAreMaskedAndWelcomePasswordManagers(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	pages := map[string]string{}
	b := e.browser()
	pages["/live/login"] = b.get("/live/login").text()
	b.post("/live/forgot-password", url.Values{"username": {username}})
	link, _ := e.resetLink(e.oneMail())
	pages["reset link"] = b.get(strings.TrimPrefix(link, e.srv.URL)).wantPath("/live/reset-password").text()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	e.clock.Advance(6 * time.Minute) // past session.reauth, so the forms ask for the password
	for _, path := range []string{"/live/password", "/live/account/profile", "/live/account/security"} {
		pages[path] = b.get(path).wantPath(path).text()
	}
	first, temp := e.newUser("live", "Ana", "Diaz")
	nb := e.browser()
	nb.signIn("live", first, temp)
	nb.post("/live/terms", url.Values{"version": {"1"}})
	pages["first sign-in"] = nb.get("/live/password").wantText("Choose your own password").text()

	for page, body := range pages {
		inputs := passwordInputs(body)
		if len(inputs) == 0 {
			t.Errorf("%s: no password field found", page)
		}
		for _, in := range inputs {
			want := "current-password"
			if strings.HasPrefix(in["name"], "new_") || strings.HasPrefix(in["name"], "confirm_") {
				want = "new-password"
			}
			if in["type"] != "password" || in["autocomplete"] != want {
				t.Errorf("%s: %s has type %q, autocomplete %q; want password, %s", page, in["name"], in["type"], in["autocomplete"], want)
			}
			for _, banned := range []string{"maxlength", "readonly", "onpaste", "oncopy", "ondrop", "pattern"} {
				if _, ok := in[banned]; ok {
					t.Errorf("%s: %s has %s=%q", page, in["name"], banned, in[banned])
				}
			}
		}
	}
}

// nistSites are the test sites with the nist password profile, as the configuration gives
// them for `password: {profile: nist}`.
func nistSites(t *testing.T) []*hmisauth.Site {
	sites := testSites()
	for _, s := range sites {
		p, _, ok := password.Profile(password.ProfileNIST)
		if !ok {
			t.Fatal("no nist profile")
		}
		p.History = s.Policy.Password.History
		s.Policy.Password = p
	}
	return sites
}

// ASVS 6.2.5, 6.2.8 and 6.2.9 through the forms: on a nist site a long passphrase of small
// letters and spaces is accepted, and only exactly what was typed signs in afterwards; nothing
// trims it, cuts it or changes its case on the way.
func TestNISTSiteTakesALongPassphraseExactlyAsTyped(t *testing.T) {
	sites := nistSites(t)
	sites[0].Policy.Lockout.Threshold = 10 // room for the near misses below
	e := newEnvSites(t, sites)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	b.get("/live/password").wantText("15 to 128 characters").lackText("capital letter", "at least one number", "symbol")
	phrase := " quilt harbor nimbly oxen velvet cactus lanterns drifting over the bay at dusk "
	if n := len([]rune(phrase)); n < 64 {
		t.Fatalf("the passphrase has %d characters; the test needs 64 or more", n)
	}
	b.post("/live/password", url.Values{"current_password": {goodPassword}, "new_password": {phrase},
		"confirm_password": {phrase}}).wantPath("/live/account")
	e.newMail()

	for _, near := range []string{strings.TrimSpace(phrase), phrase[:72], strings.ToUpper(phrase[:2]) + phrase[2:]} {
		e.browser().signIn("live", username, near).wantPath("/live/login").wantText("Login failed!")
	}
	e.browser().signIn("live", username, phrase).wantPath("/live/account")
	e.expect(e.api("POST", "live", "/login", "", map[string]any{"username": username, "password": phrase}), 200, "")
}
