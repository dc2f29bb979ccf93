package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// cannotBeTyped is the start of the refusal of a name with a control character in it.
const cannotBeTyped = "has a character that cannot be typed, such as a line break or a hidden control character."

// wantFieldRefusal checks an API answer refuses a request as invalid, naming field.
func wantFieldRefusal(t *testing.T, r *response, field string) {
	t.Helper()
	var body struct{ Error, Message, Field string }
	r.decode(&body)
	if r.Status != http.StatusBadRequest || body.Error != hmisauth.EINVALID || body.Field != field ||
		!strings.Contains(body.Message, cannotBeTyped) {
		t.Errorf("want 400 invalid on %s saying it %q; got %d %s", field, cannotBeTyped, r.Status, r.Body)
	}
}

// TestNamesCannotCarryControlCharacters sends names with line breaks, terminal escapes and
// bidirectional controls through every call that keeps one, and expects each refused on its
// field with nothing stored: such a name would start false lines in e-mails and logs or
// rewrite an administrator's terminal wherever it is shown again.
func TestNamesCannotCarryControlCharacters(t *testing.T) {
	w := newAdminWorld(t)
	for _, tc := range []struct {
		field string
		body  map[string]any
	}{
		{"first_name", map[string]any{"first_name": "Jane\nusername: admin", "last_name": "Doe"}},
		{"first_name", map[string]any{"first_name": "Ja\rne", "last_name": "Doe"}},
		{"last_name", map[string]any{"first_name": "Jane", "last_name": "Doe\x1b[2J"}},
		{"last_name", map[string]any{"first_name": "Jane", "last_name": "\u202eeoD"}},
		{"last_name", map[string]any{"first_name": "Jane", "last_name": "Do\u0085e"}},
		{"last_name", map[string]any{"first_name": "Jane", "last_name": "Do\x00e"}},
		{"phone", map[string]any{"first_name": "Jane", "last_name": "Doe", "phone": "555\r0100"}},
		{"phone", map[string]any{"first_name": "Jane", "last_name": "Doe", "phone": "555\n0100"}},
		{"phone", map[string]any{"first_name": "Jane", "last_name": "Doe", "phone": "555\x000100"}},
		{"email", map[string]any{"first_name": "Jane", "last_name": "Doe", "email": "jane\u202e@agency.example.org"}},
		{"agency", map[string]any{"first_name": "Jane", "last_name": "Doe", "agency": northName + "\x1b[31m"}},
	} {
		wantFieldRefusal(t, w.api("POST", "live", "/users", w.sys, tc.body), tc.field)
	}
	if _, err := w.store.User(context.Background(), "live", "jdoe"); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
		t.Fatalf("a refused user was stored (%v)", err)
	}

	// Editing an account, as a sysadmin and as the agency's own administrator.
	ann := w.makeUser("live", "Ann", "Able", "", "user", northName).User.Username
	wantFieldRefusal(t, w.api("PATCH", "live", "/users/"+ann, w.sys, map[string]any{"first_name": "Ann\u2066"}), "first_name")
	wantFieldRefusal(t, w.api("PATCH", "live", "/users/"+ann, w.northAdmin, map[string]any{"last_name": "Able\r\nrole: sysadmin"}), "last_name")
	wantFieldRefusal(t, w.api("PATCH", "live", "/users/"+ann, w.northAdmin, map[string]any{"phone": "555-0100\nx"}), "phone")

	// Agencies.
	wantFieldRefusal(t, w.api("POST", "live", "/agencies", w.sys, map[string]any{"name": "Hope\x1b[2J House"}), "name")
	wantFieldRefusal(t, w.api("PATCH", "live", "/agencies/"+itoa(w.north.ID), w.sys, map[string]any{"name": "North\u202e"}), "name")

	// The user's own phone, and their security question.
	wantFieldRefusal(t, w.api("PATCH", "live", "/me", w.plain, map[string]any{"phone": "555\r\n0100"}), "phone")
	wantFieldRefusal(t, w.api("PUT", "live", "/me/recovery", w.plain,
		map[string]any{"question": "Where was my first\u202e school?", "answer": "Lincoln"}), "question")

	// The console's create form shows the refusal next to the field.
	b := w.signInBrowser(w.sysName)
	r := b.send("/live/admin/users/new", "/live/admin/users/new", url.Values{"first": {"Jane\r\nClick here"}, "last": {"Doe"}, "role": {"user"},
		"step": {"create"}, "username": {"jdoe"}, "generated": {"jdoe"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("console create: status %d", r.Status)
	}
	r.wantText(`id="first-error"`, "The first name "+cannotBeTyped, "Type the first name again.")

	// A bulk import reports each bad row like its other row errors.
	file := "first,last,phone,agency\n\"Ann\nX\",Able,,\nBob,\"Baker\x1b[2J\",,\nCal,Cole,\"555\r\n0100\",\n" +
		"Dee,Dunn,,\nEve,East,,\"" + northName + "\u202e\"\n"
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, file)
	r.wantText("row 2: the first name "+cannotBeTyped, "row 4: the last name "+cannotBeTyped,
		"row 5: the phone number "+cannotBeTyped, "row 8: the agency name "+cannotBeTyped).lackText("Create these")
	if _, err := w.store.User(context.Background(), "live", "ddunn"); err == nil {
		t.Fatal("the preview created a user")
	}
}

// TestPasskeyNamesCannotCarryControlCharacters: the name a user gives a passkey is shown on
// their security page and in the e-mail saying it was added, so it is held to the same rule.
func TestPasskeyNamesCannotCarryControlCharacters(t *testing.T) {
	e := newLocalhostEnv(t)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	for _, name := range []string{"Office\u202elaptop", "Office\x1b[2Jlaptop", "Office\x00laptop"} {
		r := b.post("/live/account/security/passkeys", url.Values{"name": {name}, "state": {""}, "credential": {"{}"}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("%q: status %d", name, r.Status)
		}
		r.wantText(`id="passkey-name-error"`, "The name of the passkey "+cannotBeTyped)
	}
	if keys := e.passkeys(username); len(keys) != 0 {
		t.Fatalf("%d passkeys stored", len(keys))
	}
}
