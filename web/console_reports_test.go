package web_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestConsoleReports(t *testing.T) {
	w := newAdminWorld(t)
	locked := w.makeUser("live", "Lena", "Locked", "lena@agency.example.org", "user", northName).User.Username
	w.lockOut("live", locked)
	b := w.signInBrowser(w.northAdminName)

	b.get("/live/admin/reports").wantText("Run the report", "Locked accounts").lackText("Download CSV")
	r := b.get("/live/admin/reports?kind=locked")
	if r.Status != http.StatusOK {
		t.Fatalf("report: status %d", r.Status)
	}
	r.wantText(">"+locked+"<", "Lena Locked", "Download CSV")
	b.get("/live/admin/reports?kind=expiring-agreements&days=60").wantText("User agreements expiring soon", "reports/download?days=60")
	b.get("/live/admin/reports?kind=expiring-passwords&days=abc").wantText("Days must be a whole number")

	m := regexp.MustCompile(`href="([^"]+)" download>Download CSV`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatal("no download link")
	}
	dl := b.get(html.UnescapeString(string(m[1])))
	if dl.Status != http.StatusOK || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: status %d, %q", dl.Status, dl.Header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(string(dl.Body), "username,name,agency,what,date\n") || !strings.Contains(string(dl.Body), locked+",Lena Locked") {
		t.Errorf("csv: %s", dl.Body)
	}
}
