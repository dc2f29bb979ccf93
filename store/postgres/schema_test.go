package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// raw opens a plain connection to the database at url, behind the store's back.
func raw(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Every foreign key's child columns lead an index: without one, each deleted session (ended
// sign-ins, time-outs swept by the hundred) would scan the child table whole, under the write
// lock.
func TestEveryForeignKeyIsIndexed(t *testing.T) {
	db := raw(t, pgtest.Migrated(t))
	rows, err := db.Query(`
		SELECT c.conrelid::regclass::text, c.conname,
			(SELECT string_agg(a.attname, ', ' ORDER BY k.n)
			 FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
			 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)
		FROM pg_constraint c
		WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
			AND NOT EXISTS (
				SELECT 1 FROM pg_index i
				WHERE i.indrelid = c.conrelid
					AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
					AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, cols string
		if err := rows.Scan(&table, &name, &cols); err != nil {
			t.Fatal(err)
		}
		t.Errorf("%s (%s) references another table without an index led by those columns (%s)", table, cols, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// The chain cannot fork, even written behind the store's back: a second event after one head
// is refused by the database, and ids stay gapless for the verifier.
func TestTheAuditChainCannotFork(t *testing.T) {
	url := pgtest.Migrated(t)
	s := open(t, url)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.AppendEvents(ctx, &hmisauth.Event{Site: "live", At: at.Add(time.Duration(i) * time.Minute),
			Actor: "cli:helpdesk", Subject: "jdoe", Action: hmisauth.EventLoginFailed}); err != nil {
			t.Fatal(err)
		}
	}
	db := raw(t, url)
	var prev []byte
	if err := db.QueryRow(`SELECT prev_hash FROM events WHERE id = 3`).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	// A second child of event 2, with its own id: a fork.
	_, err := db.Exec(`INSERT INTO events (id, site, at, action, prev_hash, hash) VALUES (4, 'live', now(), 'login_failed', $1, '\x00')`, prev)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" || !strings.Contains(pe.ConstraintName, "prev_hash") {
		t.Fatalf("a forked event was answered %v, want a unique violation on prev_hash", err)
	}
	// A second first event.
	_, err = db.Exec(`INSERT INTO events (id, site, at, action, prev_hash, hash) VALUES (4, 'live', now(), 'login_failed', NULL, '\x00')`)
	if err == nil {
		t.Fatal("a second event without a previous hash was stored")
	}
	r, err := audit.Verify(ctx, s)
	if err != nil || !r.OK || r.Events != 3 {
		t.Fatalf("verify after refused forks: %+v, %v", r, err)
	}
}
