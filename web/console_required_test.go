package web_test

import (
	"net/url"
	"testing"
)

// An empty console form flags every required field at once, as the sign-in page does.
func TestEmptyConsoleFormsFlagEveryRequiredField(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	r := b.post("/live/admin/users/new", url.Values{"first": {" "}, "last": {""}})
	if r.Status != 400 {
		t.Fatalf("empty new user: %d", r.Status)
	}
	r.wantText("There is a problem", `href="#first"`, "first name.", `href="#last"`, "last name.")

	r = b.send("/live/admin/clients", "/live/admin/clients", appForm("", ""))
	if r.Status != 400 {
		t.Fatalf("empty application: %d", r.Status)
	}
	r.wantText("There is a problem", `href="#name"`, `href="#redirect_uri"`, "sign-in return address")
}
