package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReportPrintsCSV(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "=Hope", "--seats", "0")
	c.run("user", "create", "--site", "live", "--first", "Ann", "--last", "Lee", "--agency", "=Hope")
	c.run("user", "create", "--site", "live", "--first", "Bob", "--last", "Roe", "--email", "bob@example.org")

	out := c.run("report", "--site", "live", "no-email", "--csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "username,name,agency,what,date" ||
		!strings.HasPrefix(lines[1], "alee,Ann Lee,'=Hope,no e-mail address (created),20") {
		t.Fatalf("report CSV:\n%s", out)
	}

	out = c.run("report", "--site", "live", "no-email")
	if !strings.Contains(out, "USERNAME") || !strings.Contains(out, "alee") || strings.Contains(out, "broe") {
		t.Errorf("report table:\n%s", out)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(c.run("report", "--site", "live", "locked", "--json")), &rows); err != nil || len(rows) != 0 {
		t.Errorf("locked JSON = %v, %v", rows, err)
	}
	if out := c.run("report", "--site", "live", "expiring-licenses", "--days", "10", "--csv"); out != "username,name,agency,what,date\n" {
		t.Errorf("empty CSV = %q", out)
	}
	if _, err := c.try("report", "--site", "live", "everyone"); err == nil || !strings.Contains(err.Error(), "expiring-passwords") {
		t.Errorf("unknown report: %v", err)
	}
	if _, err := c.try("report", "--site", "nowhere", "locked"); err == nil {
		t.Error("unknown site accepted")
	}
}
