package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestConsoleAuditLog(t *testing.T) {
	w := newAdminWorld(t)
	locked := w.makeUser("live", "Lena", "Locked", "", "user", northName).User.Username
	w.lockOut("live", locked)
	b := w.signInBrowser(w.sysName)

	r := b.get("/live/admin/audit")
	if r.Status != http.StatusOK {
		t.Fatalf("audit: status %d", r.Status)
	}
	r.wantText("Audit log", "<td>account_locked</td>", "<td>user_created</td>", "<td>"+locked+"</td>", "Download CSV", "Download JSON")

	r = b.get("/live/admin/audit?user=" + locked + "&action=account_locked")
	r.wantText("<td>account_locked</td>", `<option value="account_locked" selected>`).lackText("<td>login_failed</td>", "<td>user_created</td>")
	// Done by: the setup's operator created every user, and nothing else here.
	b.get("/live/admin/audit?actor=cli:setup").wantText("<td>user_created</td>").lackText("<td>login_failed</td>", "<td>account_locked</td>")
	b.get("/live/admin/audit?from=2026-13-01").wantText("The from date must be a real date")
	b.get("/live/admin/audit?to=2020-01-01").wantText(`id="no-events"`)

	dl := b.get("/live/admin/audit/download?format=csv&user=" + locked)
	if dl.Status != http.StatusOK {
		t.Fatalf("download: status %d", dl.Status)
	}
	if cd := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	recs, err := csv.NewReader(bytes.NewReader(dl.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 3 || recs[0][0] != "id" {
		t.Fatalf("csv: %q", recs)
	}
	actions := map[string]bool{}
	for _, rec := range recs[1:] {
		if rec[4] != locked {
			t.Errorf("csv row about %q, want only %q", rec[4], locked)
		}
		actions[rec[5]] = true
	}
	if !actions["account_locked"] || !actions["user_created"] {
		t.Errorf("csv actions %v", actions)
	}
	js := b.get("/live/admin/audit/download?format=json")
	if js.Status != http.StatusOK || !bytes.HasPrefix(js.Body, []byte("[")) {
		t.Errorf("json: status %d: %.80s", js.Status, js.Body)
	}
}

func TestConsoleAuditPaging(t *testing.T) {
	w := newAdminWorld(t)
	for i := range 20 {
		w.lockOut("live", fmt.Sprint("nobody", i))
	}
	b := w.signInBrowser(w.sysName)
	r := b.get("/live/admin/audit")
	m := regexp.MustCompile(`href="([^"]+)" rel="next">Older events`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatal("no older events link")
	}
	b.get(html.UnescapeString(string(m[1]))).wantText("login_failed")
}

func TestConsoleAuditRefusesAgencyAdmins(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.northAdminName)
	for _, r := range []*response{b.get("/live/admin/audit"), b.get("/live/admin/audit/download?format=csv")} {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", r.URL.Path, r.Status)
		}
		r.wantText("You cannot do that")
	}
	b.get("/live/admin/users").lackText("/live/admin/audit").wantText("/live/admin/reports", "/live/admin/import")
}
