package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// TestCopyDataToPostgres fills every table of an installation's SQLite database through the
// program itself (the command line, a running server's API and single sign-on, the Store for
// what only a phone or a passkey would make), copies it into an empty PostgreSQL database, and
// checks the copy is the same installation: every table has as many rows, the audit log
// verifies with the same head, the helpdesk sees the same accounts, a server on the copy takes
// the copied passwords and tokens, new rows do not collide with copied ones, and a second copy
// into it is refused without changing anything.
func TestCopyDataToPostgres(t *testing.T) {
	target := pgtest.Empty(t)
	c := newCLI(t)
	f := fillEveryTable(t, c)

	source := sqliteCounts(t, c.dbPath())
	for table, n := range source {
		if n == 0 {
			t.Errorf("the source's table %s is empty: the test copies nothing of it", table)
		}
	}

	var res struct {
		Source, Target string
		Tables         []struct {
			Name string
			Rows int64
		}
		Rows  int64
		Audit struct {
			OK     bool
			Events int
			Head   string
		}
	}
	c.json(&res, "copy-data", "--to", target)
	if !res.Audit.OK || res.Rows != totalRows(source) || len(res.Tables) != len(source) || res.Target != target {
		t.Fatalf("copy-data printed %+v; the source has %d rows in %d tables", res, totalRows(source), len(source))
	}
	if got := postgresCounts(t, target, slices.Collect(maps.Keys(source))); !maps.Equal(got, source) {
		t.Fatalf("rows per table:\n source %v\n target %v", source, got)
	}

	onPG := &cli{t: t, data: c.data, environ: append(slices.Clone(c.environ), "HMISAUTH_DATABASE="+target)}
	var verified, original struct {
		OK   bool
		Head string
	}
	onPG.json(&verified, "audit", "verify")
	c.json(&original, "audit", "verify")
	if !verified.OK || verified.Head != original.Head || verified.Head != res.Audit.Head {
		t.Fatalf("audit verify on the copy %+v, on the original %+v", verified, original)
	}
	for _, username := range []string{f.admin, f.locked, "agencyless"} {
		args := []string{"user", "show", "--site", "live", username, "--json"}
		if was, is := c.run(args...), onPG.run(args...); was != is {
			t.Errorf("user show %s:\n SQLite     %s\n PostgreSQL %s", username, was, is)
		}
	}

	// A server on the copy signs in with the copied password hash, and honours the copied
	// access and refresh tokens, signed with the copied keys and sealed with the same secret.
	base, stop := onPG.serveStoppable()
	api := base + "/api/v1/sites/live"
	if status, m := postJSON(t, http.DefaultClient, api+"/login", "", map[string]string{"username": f.admin, "password": f.password}); status != http.StatusOK {
		t.Errorf("the copied password: sign-in answered %d %v", status, m)
	}
	if status, _ := postJSON(t, http.DefaultClient, api+"/login", "", map[string]string{"username": f.locked, "password": f.lockedPassword}); status != http.StatusLocked {
		t.Errorf("the copied lock: sign-in answered %d", status)
	}
	req, _ := http.NewRequest("GET", base+"/live/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+f.accessToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("userinfo with a copied access token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	oc := &oidcClient{issuer: base + "/live", id: f.client.ClientID, secret: f.client.ClientSecret}
	oc.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refreshToken}})
	stop()

	// New rows get ids past the copied ones.
	onPG.run("user", "create", "--site", "live", "--first", "New", "--last", "Comer", "--email", "ncomer@agency.example.org")
	onPG.run("agency", "create", "--site", "live", "--name", "Second Agency", "--license-expires", "2099-01-01")
	onPG.run("audit", "verify")
	after := postgresCounts(t, target, slices.Collect(maps.Keys(source)))

	// A second copy into the database, now in use, is refused and changes nothing.
	_, err := c.try("copy-data", "--to", target)
	if err == nil || !strings.Contains(oneLine(err), "must be empty") || !strings.Contains(oneLine(err), "users") {
		t.Fatalf("a copy into a database with rows: %v", err)
	}
	if again := postgresCounts(t, target, slices.Collect(maps.Keys(source))); !maps.Equal(again, after) {
		t.Fatalf("the refused copy changed the target:\n before %v\n after  %v", after, again)
	}
}

// TestCopyDataWhileAServerRuns copies while a server takes sign-ins that write the audit log,
// lockouts and refusals: the copy is one snapshot, so its audit log verifies and every table
// holds what it held at one instant.
func TestCopyDataWhileAServerRuns(t *testing.T) {
	target := pgtest.Empty(t)
	c := newCLI(t)
	base, stop := c.serveStoppable()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				body := fmt.Sprintf(`{"username":"guess%d-%d","password":"Wrong-guess-1"}`, i, n%5)
				if resp, err := http.Post(base+"/api/v1/sites/live/login", "application/json", strings.NewReader(body)); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	var res struct {
		Rows  int64
		Audit struct{ OK bool }
	}
	c.json(&res, "copy-data", "--to", target)
	close(done)
	wg.Wait()
	stop()
	if !res.Audit.OK || res.Rows == 0 {
		t.Fatalf("copy-data printed %+v", res)
	}
	onPG := &cli{t: t, data: c.data, environ: append(slices.Clone(c.environ), "HMISAUTH_DATABASE="+target)}
	onPG.run("audit", "verify")
	copied := postgresCounts(t, target, []string{"events"})
	now := sqliteCounts(t, c.dbPath())
	if copied["events"] == 0 || copied["events"] > now["events"] {
		t.Errorf("%d events copied of %d now", copied["events"], now["events"])
	}
}

// TestCopyDataFailsOnAnAuditLogThatDoesNotVerify copies an installation whose audit log was
// edited behind hmisauth's back: the copy is as the original, and copy-data exits non-zero
// saying so.
func TestCopyDataFailsOnAnAuditLogThatDoesNotVerify(t *testing.T) {
	target := pgtest.Empty(t)
	c := newCLI(t)
	c.appendEvents(auditEvents()...)
	c.tamper(`UPDATE events SET actor = 'cli:someone' WHERE id = 2`)
	_, err := c.try("copy-data", "--to", target)
	if err == nil || !strings.Contains(oneLine(err), "does not verify: event 2 was changed after it was written") ||
		!strings.Contains(oneLine(err), "Neither does this installation's own") {
		t.Fatalf("copy of a tampered log: %v", err)
	}
}

// TestCopyDataLeavesADatabaseInUseAlone points copy-data at a database another application
// uses: it is refused before hmisauth creates anything in it.
func TestCopyDataLeavesADatabaseInUseAlone(t *testing.T) {
	target := pgtest.Empty(t)
	db, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')`); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	c.run("user", "create", "--site", "live", "--first", "Ann", "--last", "Lee")
	_, err = c.try("copy-data", "--to", target)
	if err == nil || !strings.Contains(oneLine(err), "must be empty, but its table notes has rows") {
		t.Fatalf("copy into a database in use: %v", err)
	}
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("the database has %d tables (%v), want its one", tables, err)
	}
}

func TestCopyDataRefusesWhatItCannotCopy(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"copy-data"}, `"to" not set`},
		{[]string{"copy-data", "--to", "mysql://db/hmisauth"}, "--to must be a PostgreSQL URL"},
		{[]string{"copy-data", "--to", "sqlite:/tmp/other.db"}, "--to must be a PostgreSQL URL"},
	} {
		_, err := c.try(tc.args...)
		if err == nil || !strings.Contains(oneLine(err), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := c.try("copy-data", "--to", "postgres://db.example.org/hmisauth"); err == nil ||
		!strings.Contains(oneLine(err), "there is no database to copy at") {
		t.Errorf("copy of a data folder without a database: %v", err)
	}
	// An installation on PostgreSQL already has nothing to copy from SQLite.
	pg := &cli{t: t, data: c.data, environ: append(slices.Clone(c.environ),
		"HMISAUTH_DATABASE=postgres://hmisauth:s3cret@db.example.org/hmisauth")}
	_, err := pg.try("copy-data", "--to", "postgres://db.example.org/other")
	if err == nil || !strings.Contains(oneLine(err), "copies from SQLite") || strings.Contains(oneLine(err), "s3cret") {
		t.Errorf("copy from PostgreSQL: %v", err)
	}
}

// filled is what fillEveryTable made that the test checks on the copy.
type filled struct {
	admin, password        string
	locked, lockedPassword string
	client                 addedClient
	accessToken            string
	refreshToken           string
}

const copyRedirect = "http://127.0.0.1:9/callback" // never contacted: the code is read off the redirect

// fillEveryTable puts rows in every table of c's database.
func fillEveryTable(t *testing.T, c *cli) filled {
	t.Helper()
	var f filled
	var created struct {
		Username          string
		TemporaryPassword string `json:"temporary_password"`
	}
	c.run("agency", "create", "--site", "live", "--name", "Hope Shelter", "--seats", "5",
		"--license-starts", "2026-01-01", "--license-expires", "2099-06-30")
	c.json(&created, "user", "create", "--site", "live", "--first", "Ann", "--last", "Admin", "--role", "sysadmin",
		"--email", "aadmin@agency.example.org")
	f.admin = created.Username
	c.json(&created, "user", "create", "--site", "live", "--first", "Maria", "--last", "Lopez",
		"--agency", "Hope Shelter", "--email", "mlopez@agency.example.org")
	f.locked, f.lockedPassword = created.Username, created.TemporaryPassword
	c.run("user", "agreement", "--site", "live", f.locked, "--signed", "2026-01-15", "--supervisor-signed", "2026-01-16")
	c.run("user", "create", "--site", "live", "--first", "No", "--last", "Agency", "--username", "agencyless")
	c.run("user", "disable", "--site", "live", "agencyless")
	f.client, _ = c.addClient("--name", "HMIS", "--redirect-uri", copyRedirect,
		"--backchannel-logout-uri", "http://127.0.0.1:9/backchannel", "--refresh-tokens")
	adminTemp := c.run("user", "temp-password", "--site", "live", f.admin, "--json")
	var temp struct {
		TemporaryPassword string `json:"temporary_password"`
	}
	if err := json.Unmarshal([]byte(adminTemp), &temp); err != nil {
		t.Fatal(err)
	}

	// The Store on the same file, as a command run beside the server opens it.
	ctx := context.Background()
	st, err := sqlite.Open(c.dbPath())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base, stop := c.serveStoppable()
	api := base + "/api/v1/sites/live"
	// A forgotten password: the request, its link and the e-mail carrying it.
	if status, _ := postJSON(t, http.DefaultClient, api+"/password/forgot", "", map[string]string{"username": f.locked}); status != http.StatusAccepted {
		t.Fatalf("forgot answered %d", status)
	}
	waitUntil(t, "the reset e-mail", func() bool { return strings.Contains(getBody(t, base+"/dev/mail"), "/live/reset-password?token=") })
	// Locked by wrong guesses, then refused twice more: the lockout, its events, the refusal
	// window and the values it saw.
	for range 5 {
		postJSON(t, http.DefaultClient, api+"/login", "", map[string]string{"username": f.locked, "password": "Wrong-guess-1"})
	}
	// The administrator's first sign-in: terms, a password of their own, its history.
	f.password = "Kettle-Harbor-93!"
	_, login := postJSON(t, http.DefaultClient, api+"/login", "", map[string]string{"username": f.admin, "password": temp.TemporaryPassword})
	token, _ := login["token"].(string)
	postJSON(t, http.DefaultClient, api+"/me/terms", token, map[string]int{"version": 1})
	if status, m := postJSON(t, http.DefaultClient, api+"/me/password", token,
		map[string]string{"new_password": f.password, "confirm_password": f.password}); status >= 300 {
		t.Fatalf("password change answered %d %v", status, m)
	}
	// Single sign-on from two browsers: authorization requests, codes, tokens, the clients
	// each session signed in to, signing keys. The first browser's session is ended below.
	oc := &oidcClient{issuer: base + "/live", id: f.client.ClientID, secret: f.client.ClientSecret}
	oc.codeFlow(t, oc.signIn(t, f.admin, f.password))
	admin, err := st.User(ctx, "live", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := st.UserSessions(ctx, admin.ID) // newest first: the first browser's
	if err != nil || len(sessions) == 0 {
		t.Fatalf("the administrator's sessions: %v %v", sessions, err)
	}
	noErr(t, st.EndUserSession(ctx, admin.ID, sessions[0].ID, "ended_by_admin", time.Now())) // a session end, a logout notice
	tokens := oc.codeFlow(t, oc.signIn(t, f.admin, f.password))
	refreshed := oc.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)}})
	f.accessToken, _ = refreshed["access_token"].(string)
	f.refreshToken, _ = refreshed["refresh_token"].(string)
	stop()

	// What takes a phone, a passkey or a day's wait, straight through the Store.
	now := time.Now()
	other, err := st.User(ctx, "live", "agencyless")
	if err != nil {
		t.Fatal(err)
	}
	agency, err := st.AgencyByName(ctx, "live", "Hope Shelter")
	if err != nil {
		t.Fatal(err)
	}
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	noErr(t, st.StartTOTP(ctx, other.ID, []byte("sealed secret"), now))
	noErr(t, st.ReplaceRecoveryCodes(ctx, other.ID, [][]byte{hash("code 1"), hash("code 2")}, now, nil))
	noErr(t, st.AddPasskey(ctx, &hmisauth.Passkey{UserID: other.ID, CredentialID: []byte("credential id"), Name: "Laptop",
		Credential: []byte(`{"public_key":"…"}`), CreatedAt: now}, nil, nil))
	noErr(t, st.RememberDevice(ctx, &hmisauth.RememberedDevice{UserID: other.ID, TokenHash: hash("device"),
		CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour), UserAgent: "Firefox"}))
	noErr(t, st.CreateLoginChallenge(ctx, &hmisauth.LoginChallenge{Site: "live", UserID: other.ID, TokenHash: hash("challenge"),
		CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute), WebAuthn: []byte(`{"challenge":"x"}`)}))
	noErr(t, st.QueueResetRequest(ctx, &hmisauth.ResetRequest{Site: "live", Username: "nobody", ClientAddr: "192.0.2.9", At: now}))
	if _, err := st.Remind(ctx, hmisauth.Reminder{Site: "live", Kind: hmisauth.ReminderLicense, TargetID: agency.ID,
		Due: "2099-06-30", At: now}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.HitRateLimit(ctx, "copy-data test", time.Hour, 10, now); err != nil {
		t.Fatal(err)
	}
	// A completed training, with its event (the CLI needs kinds in a config this test has not).
	noErr(t, st.RecordTraining(hmisauth.WithEvent(ctx, &hmisauth.Event{Site: "live", Actor: f.admin,
		Subject: "agencyless", Action: hmisauth.EventTrainingRecorded, Detail: "new_user completed 2026-01-05"}),
		&hmisauth.TrainingRecord{UserID: other.ID, Kind: "new_user", CompletedOn: "2026-01-05", RecordedBy: f.admin, RecordedAt: now}))
	// An agency's access-log review, its event carrying the agency (a column outside the hash).
	noErr(t, st.RecordReview(hmisauth.WithEvent(ctx, &hmisauth.Event{Site: "live", Actor: f.admin,
		Action: hmisauth.EventAccessLogReviewed, AgencyID: agency.ID, Detail: "reviewed 2026-01-01 to 2026-01-31"}),
		&hmisauth.LogReview{Site: "live", AgencyID: agency.ID, Reviewer: f.admin, From: "2026-01-01", To: "2026-01-31",
			Findings: "None", At: now}))
	// A console form's one-time token, of the administrator's session still open.
	open, err := st.UserSessions(ctx, admin.ID)
	if err != nil || len(open) == 0 {
		t.Fatalf("the administrator's open sessions: %v %v", open, err)
	}
	noErr(t, st.IssueFormToken(ctx, &hmisauth.FormToken{Hash: hash("form"), SessionID: open[0].ID,
		Purpose: "create-user", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	return f
}

// A database setting in a message never shows its password, wherever the URL holds it.
func TestRedactURLHidesThePassword(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:./hmisauth-data/hmisauth.db":                              "sqlite:./hmisauth-data/hmisauth.db",
		"postgres://hmis:hunter2@db.example.org/hmis":                     "postgres://hmis:xxxxx@db.example.org/hmis",
		"postgres://db.example.org/hmis?password=hunter2&sslmode=require": "postgres://db.example.org/hmis?password=xxxxx&sslmode=require",
		"postgres://hmis@db.example.org/hmis":                             "postgres://hmis@db.example.org/hmis",
		"postgres://hmis:hunter2@db/hmis%zz":                              "(the configured database)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
