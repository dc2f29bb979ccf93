package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// TestTakenUsernameOffersAFreeOne: usernames are unique per site, so an agency administrator
// who chooses a name another agency's user has must hear that it cannot be used, but not that
// it is another agency's, nor whose. The API, the console's create form and an import preview
// all answer alike, for a sysadmin too: with the next free name made from the person's names.
func TestTakenUsernameOffersAFreeOne(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "John", "Doe", "john.doe@south.example.org", "user", southName) // jdoe
	w.makeUser("live", "Jim", "Doe", "jim.doe@south.example.org", "user", southName)   // jdoe2
	// Nothing of the accounts that hold the names: their agency, names, addresses or state.
	hidden := []string{southName, "South", "John", "Jim", "south.example.org", "already taken"}

	for _, tc := range []struct {
		token, first, last, username, want string
	}{
		{w.northAdmin, "Jane", "Doe", "jdoe", "The username jdoe cannot be used. jdoe3 is free for this person; use it, or choose another."},
		{w.northAdmin, "Mary", "Smith", "jdoe2", "The username jdoe2 cannot be used. msmith is free for this person; use it, or choose another."},
		{w.sys, "Jane", "Doe", "JDOE", "The username JDOE cannot be used. jdoe3 is free for this person; use it, or choose another."},
	} {
		r := w.expect(w.api("POST", "live", "/users", tc.token, map[string]any{"first_name": tc.first, "last_name": tc.last,
			"username": tc.username}), http.StatusConflict, hmisauth.ECONFLICT)
		var body struct{ Message, Field string }
		r.decode(&body)
		if body.Message != tc.want || body.Field != "username" {
			t.Errorf("%s for %s %s: %s", tc.username, tc.first, tc.last, r.Body)
		}
		r.lackText(hidden...)
	}
	for _, name := range []string{"jdoe3", "msmith"} {
		if _, err := w.store.User(context.Background(), "live", name); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
			t.Fatalf("%s was created (%v)", name, err)
		}
	}

	// The import preview names the offer on the row.
	b := w.signInBrowser(w.northAdminName)
	b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, "first,last,username\nJane,Doe,jdoe\n").
		wantText("row 2: the username jdoe cannot be used; jdoe3 is free — or leave the username empty to have one made").
		lackText(hidden...)

	// The console's preview shows the free name; a taken one typed over it is refused on the
	// field with the offer filled in, and taking the offer creates the account.
	form := url.Values{"first": {"Jane"}, "last": {"Doe"}, "role": {"user"}, "step": {"preview"}}
	preview := b.post("/live/admin/users/new", form).wantText(`name="username" type="text" value="jdoe3"`)
	// The refused form's token is given back, so the corrected form is sent with it again.
	form = withToken(preview, "/live/admin/users/new", form)
	form.Set("step", "create")
	form.Set("username", "jdoe")
	form.Set("generated", "jdoe3")
	r := b.post("/live/admin/users/new", form)
	if r.Status != http.StatusConflict {
		t.Fatalf("create with a taken username: status %d", r.Status)
	}
	r.wantText(`id="username-error"`, "The username jdoe cannot be used. jdoe3 is free for this person; use it, or choose another.",
		`name="username" type="text" value="jdoe3"`, `name="generated" value="jdoe3"`).lackText(hidden...)
	form.Set("username", "jdoe3")
	if r := b.post("/live/admin/users/new", form); r.Status != http.StatusCreated {
		t.Fatalf("create with the offer: status %d", r.Status)
	} else {
		r.wantText("The account jdoe3 was created.")
	}
}
