package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// writeLog writes five events through the store as the rules would: carried by writes, and
// appended on their own.
func writeLog(t *testing.T, s *sqlite.Store) {
	t.Helper()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	ev := func(action, actor, detail string, min int) *hmisauth.Event {
		return &hmisauth.Event{Site: "live", At: at.Add(time.Duration(min) * time.Minute), Actor: actor,
			Subject: "mlopez", Action: action, ClientAddr: "192.0.2.10", Detail: detail}
	}
	ctx := t.Context()
	u := &hmisauth.User{Site: "live", Username: "mlopez", CreatedAt: at, PasswordTemporary: true}
	if err := s.CreateUser(hmisauth.WithEvent(ctx, ev(hmisauth.EventUserCreated, "cli:helpdesk", "", 0)), u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReserveLoginAttempt(ctx, "live", "mlopez", 3, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(ctx, ev(hmisauth.EventLoginFailed, "", "wrong_password", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.LoginSucceeded(hmisauth.WithEvent(ctx, ev(hmisauth.EventLoginSucceeded, "mlopez", "", 2)), u.ID, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ok, err := s.UseTemporaryPassword(hmisauth.WithEvent(ctx, ev(hmisauth.EventPasswordChanged, "mlopez", "temporary password used", 3)), u.ID, at)
	if err != nil || !ok {
		t.Fatalf("UseTemporaryPassword: %v, %v", ok, err)
	}
	if err := s.AppendEvents(ctx, ev(hmisauth.EventLogout, "mlopez", "", 4)); err != nil {
		t.Fatal(err)
	}
}

// tamper runs statements on the database file through a connection of its own, as someone
// with the file (or a database login) would, bypassing the Store.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// The audit chain in the real database: every way of editing, deleting or reordering rows
// behind the Store's back is caught by verify, which names the event.
func TestVerifyCatchesTamperingInTheDatabase(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stmts   []string
		events  int
		badID   int64
		problem string
	}{
		{"Untouched", nil, 5, 0, ""},
		{"DetailEdited", []string{`UPDATE events SET detail = 'right_password' WHERE id = 2`},
			2, 2, "event 2 was changed after it was written"},
		{"ActorEdited", []string{`UPDATE events SET actor = 'someone-else' WHERE id = 3`},
			3, 3, "event 3 was changed after it was written"},
		{"TimeEdited", []string{`UPDATE events SET at = at + 1 WHERE id = 5`},
			5, 5, "event 5 was changed after it was written"},
		{"HashSwappedForAnother", []string{
			`UPDATE events SET hash = (SELECT hash FROM events WHERE id = 1) WHERE id = 2`},
			2, 2, "event 2 was changed after it was written"},
		{"MiddleRowDeleted", []string{`DELETE FROM events WHERE id = 3`},
			3, 3, "events 2 to 4: 3 is missing"},
		{"FirstRowDeleted", []string{`DELETE FROM events WHERE id = 1`},
			1, 1, "event 1 is missing: the log starts at event 2"},
		{"RowsReordered", []string{
			`UPDATE events SET id = 100 WHERE id = 2`, `UPDATE events SET id = 2 WHERE id = 3`, `UPDATE events SET id = 3 WHERE id = 100`},
			2, 2, "event 2 does not follow event 1: an event was deleted or the order changed"},
		{"RowDeletedAndTheRestRenumbered", []string{
			`DELETE FROM events WHERE id = 2`, `UPDATE events SET id = id - 1 WHERE id > 2`},
			2, 2, "event 2 does not follow event 1: an event was deleted or the order changed"},
		// Only an anchor can tell; see TestAnAnchorCatchesTheNewestEventsDeleted.
		{"NewestRowDeleted", []string{`DELETE FROM events WHERE id = 5`}, 4, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hmisauth.db")
			s := open(t, path)
			writeLog(t, s)
			tamper(t, path, tc.stmts...)
			r, err := audit.Verify(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != (tc.problem == "") || r.Events != tc.events || r.BadID != tc.badID || r.Problem != tc.problem {
				t.Fatalf("report %+v\nwant %d events checked, bad ID %d, problem %q", r, tc.events, tc.badID, tc.problem)
			}
		})
	}
}

func TestAnAnchorCatchesTheNewestEventsDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	s := open(t, path)
	writeLog(t, s)
	r, err := audit.Verify(t.Context(), s)
	if err != nil || !r.OK || r.Head == nil || r.Head.ID != 5 {
		t.Fatalf("before: %+v, %v", r, err)
	}
	anchor := *r.Head
	if err := s.AppendEvents(t.Context(), &hmisauth.Event{Site: "live", Action: hmisauth.EventLogout}); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.Verify(t.Context(), s, anchor); err != nil || !r.OK {
		t.Fatalf("a log that grew past its anchor: %+v, %v", r, err)
	}
	tamper(t, path, `DELETE FROM events WHERE id >= 5`)
	r, err = audit.Verify(t.Context(), s, anchor)
	if err != nil || r.OK || r.BadID != 5 {
		t.Fatalf("newest events deleted under an anchor: %+v, %v", r, err)
	}
}

// After tampering the Store keeps appending: the break stays where it was made.
func TestTamperingStaysVisibleAsTheLogGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	s := open(t, path)
	writeLog(t, s)
	tamper(t, path, `UPDATE events SET detail = 'edited' WHERE id = 4`)
	for range 3 {
		if err := s.AppendEvents(t.Context(), &hmisauth.Event{Site: "live", Action: hmisauth.EventLogout}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := audit.Verify(t.Context(), s)
	if err != nil || r.OK || r.BadID != 4 {
		t.Fatalf("%+v, %v; want event 4 named", r, err)
	}
}

// Someone who knows the chain rule can edit an event and recompute its hash; the next event
// then no longer follows it.
func TestARecomputedHashBreaksTheNextLink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	s := open(t, path)
	writeLog(t, s)
	evs, err := s.Events(t.Context(), hmisauth.EventQuery{BeforeID: 3, Limit: 1})
	if err != nil || len(evs) != 1 || evs[0].ID != 2 {
		t.Fatalf("event 2: %v, %v", evs, err)
	}
	ev := evs[0]
	ev.Detail = "right_password"
	tamper(t, path, fmt.Sprintf(`UPDATE events SET detail = 'right_password', hash = x'%x' WHERE id = 2`,
		hmisauth.EventHash(ev.PrevHash, ev)))
	r, err := audit.Verify(t.Context(), s)
	if err != nil || r.OK || r.BadID != 3 || r.Problem != "event 3 does not follow event 2: an event was deleted or the order changed" {
		t.Fatalf("%+v, %v", r, err)
	}
}
