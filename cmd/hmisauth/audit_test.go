package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// appendEvents writes events to c's database through the Store, as a running server would.
func (c *cli) appendEvents(evs ...*hmisauth.Event) {
	c.t.Helper()
	c.run("migrate")
	st, err := sqlite.Open(c.dbPath())
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	if err := st.AppendEvents(c.t.Context(), evs...); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cli) dbPath() string { return filepath.Join(c.data, "hmisauth.db") }

// tamper changes the database file behind hmisauth's back.
func (c *cli) tamper(stmt string) {
	c.t.Helper()
	db, err := sql.Open("sqlite", "file:"+c.dbPath())
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		c.t.Fatal(err)
	}
}

// auditEvents are three events: on live at 09:30 and 21:00 Chicago time on March 2 (the
// second already March 3 in UTC), and on training the next morning.
func auditEvents() []*hmisauth.Event {
	at := time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)
	return []*hmisauth.Event{
		{Site: "live", At: at, Subject: "mlopez", Action: hmisauth.EventLoginFailed, ClientAddr: "192.0.2.7", Detail: "wrong_password"},
		{Site: "live", At: at.Add(11*time.Hour + 30*time.Minute), Actor: "cli:helpdesk", Subject: "mlopez", Action: hmisauth.EventUserUnlocked},
		{Site: "training", At: at.Add(24 * time.Hour), Actor: "mlopez", Subject: "mlopez", Action: hmisauth.EventLoginSucceeded},
	}
}

func TestAuditVerifyNamesTheTamperedEvent(t *testing.T) {
	for _, tc := range []struct{ name, stmt, problem string }{
		{"edited", `UPDATE events SET actor = 'cli:someone' WHERE id = 2`, "event 2 was changed after it was written"},
		{"deleted", `DELETE FROM events WHERE id = 2`, "events 1 to 3: 2 is missing"},
		{"reordered", `UPDATE events SET id = 100 WHERE id = 1; UPDATE events SET id = 1 WHERE id = 2; UPDATE events SET id = 2 WHERE id = 100`,
			"event 1 does not start the chain: an event was deleted or the order changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.appendEvents(auditEvents()...)
			if out := c.run("audit", "verify"); !strings.HasPrefix(out, "The audit log is intact: 3 events.\n") {
				t.Fatalf("before tampering: %q", out)
			}
			c.tamper(tc.stmt)
			out, err := c.try("audit", "verify")
			if err == nil {
				t.Fatalf("verify passed a %s log, printing %q", tc.name, out)
			}
			if got, want := oneLine(err), "The audit log is broken: "+tc.problem; got != want {
				t.Errorf("error %q, want %q", got, want)
			}
			var r struct {
				Events  int
				OK      bool
				BadID   int64 `json:"bad_id"`
				Problem string
			}
			out, err = c.try("audit", "verify", "--json")
			if err == nil || json.Unmarshal([]byte(out), &r) != nil || r.OK || r.BadID == 0 || r.Problem != tc.problem {
				t.Errorf("verify --json: %v, printed %q", err, out)
			}
		})
	}
}

func TestAuditVerifyOfAnEmptyLog(t *testing.T) {
	c := newCLI(t)
	if out := c.run("audit", "verify"); out != "The audit log is intact: 0 events.\n" {
		t.Fatalf("printed %q", out)
	}
}

// The operator keeps the newest event's anchor from one run; deleting the newest events,
// invisible to the chain alone, then fails the next run.
func TestAuditVerifyWithAnAnchor(t *testing.T) {
	c := newCLI(t)
	c.appendEvents(auditEvents()...)
	var r struct{ Head string }
	c.json(&r, "audit", "verify")
	if !regexp.MustCompile(`^3:[0-9a-f]{64}$`).MatchString(r.Head) {
		t.Fatalf("head %q, want 3:HASH", r.Head)
	}
	if out := c.run("audit", "verify"); !strings.Contains(out, "--anchor "+r.Head) {
		t.Errorf("verify does not say how to use its anchor:\n%s", out)
	}
	c.tamper(`DELETE FROM events WHERE id = 3`)
	c.run("audit", "verify")
	_, err := c.try("audit", "verify", "--anchor", r.Head)
	if err == nil || !strings.Contains(oneLine(err), "event 3 of anchor "+r.Head+" is missing") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.try("audit", "verify", "--anchor", "three"); err == nil || !strings.Contains(oneLine(err), "EVENT-ID:HASH") {
		t.Fatalf("a malformed anchor: %v", err)
	}
}

func TestAuditExport(t *testing.T) {
	c := newCLI(t)
	c.appendEvents(auditEvents()...)
	rows, err := csv.NewReader(strings.NewReader(c.run("audit", "export"))).ReadAll()
	if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != "id,time,site,actor,subject,action,client_addr,detail,hash" {
		t.Fatalf("CSV: %v, %v", rows, err)
	}
	if got := strings.Join(rows[1][:8], ","); got != "1,2026-03-02T15:30:00.000000Z,live,,mlopez,login_failed,192.0.2.7,wrong_password" {
		t.Errorf("first row %s", got)
	}
	ids := func(args ...string) string {
		var recs []struct{ ID int }
		out := c.run(append([]string{"audit", "export"}, args...)...)
		if err := json.Unmarshal([]byte(out), &recs); err != nil {
			t.Fatalf("%v printed %q: %v", args, out, err)
		}
		var s []string
		for _, r := range recs {
			s = append(s, string(rune('0'+r.ID)))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "json"}, "1,2,3"},
		{[]string{"--json"}, "1,2,3"},
		{[]string{"--json", "--site", "live"}, "1,2"},
		{[]string{"--json", "--since", "2026-03-02T15:31:00Z"}, "2,3"},
		{[]string{"--json", "--since", "2026-03-03"}, "2,3"},                // midnight UTC
		{[]string{"--json", "--since", "2026-03-03", "--site", "live"}, ""}, // midnight in Chicago
		{[]string{"--json", "--since", "2026-03-02", "--site", "live"}, "1,2"},
		{[]string{"--json", "--since", "2026-03-04"}, ""},
	} {
		if got := ids(tc.args...); got != tc.want {
			t.Errorf("export %v: events %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, bad := range [][]string{
		{"--format", "xml"}, {"--since", "03/02/2026"}, {"--site", "moon"}, {"--json", "--format", "csv"},
	} {
		if _, err := c.try(append([]string{"audit", "export"}, bad...)...); err == nil {
			t.Errorf("export %v succeeded", bad)
		}
	}
}
