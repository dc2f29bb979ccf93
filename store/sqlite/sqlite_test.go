package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/sqlite"
	"github.com/hmisauth/hmisauth/store/storetest"
	"github.com/pressly/goose/v3"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hmisauth.Store { return open(t, filepath.Join(t.TempDir(), "hmisauth.db")) })
}

// Two processes on one file: the server and a CLI command, or two servers.
func TestTwoProcesses(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) []hmisauth.Store {
		path := filepath.Join(t.TempDir(), "hmisauth.db")
		return []hmisauth.Store{open(t, path), open(t, path)}
	})
}

// open opens and migrates the file, closing it when the test ends.
func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTwoProcessesMigrateANewFileAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	a, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	errs := make(chan error, 2)
	for _, s := range []*sqlite.Store{a, b} {
		go func() { errs <- s.Migrate(t.Context()) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := a.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "hmisauth.db"))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCreatesTheDataDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth-data", "nested", "hmis auth?#.db")
	open(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at %s: %v", path, err)
	}
}

// Every key a client address makes gets a row; ended windows must not pile up.
func TestEndedRateLimitWindowsAreDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	s := open(t, path)
	t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for i := range 100 {
		if _, err := s.HitRateLimit(t.Context(), fmt.Sprint("forgot:live:192.0.2.", i), time.Minute, 5, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.HitRateLimit(t.Context(), "forgot:live:198.51.100.1", time.Minute, 5, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, path, "rate_limits"); n != 1 {
		t.Errorf("%d rate-limit rows after the windows ended, want 1 (the live one)", n)
	}
}

// count counts a table's rows through a connection of its own.
func count(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A file made before recovery existed gains its tables and column, and its users are candidates
// for an expiry warning (none was ever sent).
func TestMigratingAnOlderFileKeepsItsUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	changed := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if _, err := db.Exec(`INSERT INTO users (site, username, username_key, email, created_at, password_hash, password_changed_at)
		VALUES ('live', 'JDoe', 'jdoe', 'jane@example.org', 0, 'h', ?)`, changed.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	users, err := s.PasswordExpiryCandidates(t.Context(), "live", changed, changed.Add(time.Hour))
	if err != nil || len(users) != 1 || users[0].Username != "JDoe" {
		t.Fatalf("candidates after migrating: %v, %v", users, err)
	}
}

// Every 2-step table goes with its user: nothing of a deleted account is left behind.
func TestSecondFactorsGoWithTheirUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	s := open(t, path)
	ctx := t.Context()
	now := time.Now()
	u := &hmisauth.User{Site: "live", Username: "jdoe", CreatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := &hmisauth.Session{Site: "live", UserID: u.ID, TokenHash: []byte("s"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, err := range []error{
		s.StartTOTP(ctx, u.ID, []byte("sealed"), now),
		s.ConfirmTOTP(ctx, u.ID, []byte("sealed"), 1, now, [][]byte{[]byte("code")}, nil),
		s.AddPasskey(ctx, &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("key")}, nil, nil),
		s.RememberDevice(ctx, &hmisauth.RememberedDevice{UserID: u.ID, TokenHash: []byte("d"), ExpiresAt: now.Add(time.Hour)}),
		s.CreateLoginChallenge(ctx, &hmisauth.LoginChallenge{Site: "live", UserID: u.ID, TokenHash: []byte("c"), ExpiresAt: now.Add(time.Hour)}),
		s.CreateSession(ctx, sess, false),
		s.DeleteUserSessions(ctx, u.ID, 0, hmisauth.EndedByHelpdesk, now),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	tables := []string{"totp", "recovery_codes", "passkeys", "remembered_devices", "login_challenges", "session_ends"}
	for _, table := range tables {
		if n := count(t, path, table); n != 1 {
			t.Fatalf("%d rows in %s before the user was deleted, want 1", n, table)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM users WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if n := count(t, path, table); n != 0 {
			t.Errorf("%d rows left in %s after their user was deleted, want 0", n, table)
		}
	}
}

// A file made before OpenID Connect gains a subject for each user, distinct and kept, and its
// sessions read back without sid or AMR.
func TestMigratingGivesEveryUserASubject(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"amy", "bob", "cal"} {
		if _, err := db.Exec(`INSERT INTO users (site, username, username_key, created_at) VALUES ('live', ?, ?, 0)`,
			name, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO sessions (site, user_id, token_hash, created_at) VALUES ('live', 1, x'01', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	seen := make(map[string]bool)
	for _, name := range []string{"amy", "bob", "cal"} {
		u, err := s.User(t.Context(), "live", name)
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Subject) != 32 || seen[u.Subject] {
			t.Errorf("%s got subject %q: want 32 new hex digits", name, u.Subject)
		}
		seen[u.Subject] = true
		if got, err := s.UserBySubject(t.Context(), "live", u.Subject); err != nil || got.ID != u.ID {
			t.Errorf("UserBySubject(%s's subject) = %v, %v", name, got, err)
		}
	}
	sess, err := s.SessionByToken(t.Context(), []byte{1})
	if err != nil || sess.SID != "" || sess.AMR != nil {
		t.Fatalf("an older session: %+v, %v; want no sid or AMR", sess, err)
	}
}

// Deleting a user (which nothing does yet) leaves nothing of their sign-ins to applications:
// tokens and links go with their sessions, and finished requests with them too.
func TestOIDCRecordsGoWithTheirUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	s := open(t, path)
	ctx := t.Context()
	u := &hmisauth.User{Site: "live", Username: "jdoe", CreatedAt: benchNow}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	signIn(t, s, u, "tok")
	tables := []string{"oidc_auth_requests", "oidc_access_tokens", "oidc_refresh_tokens", "oidc_session_clients"}
	for _, table := range tables {
		if n := count(t, path, table); n != 1 {
			t.Fatalf("%d rows in %s before the user was deleted, want 1", n, table)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM users WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if n := count(t, path, table); n != 0 {
			t.Errorf("%d rows left in %s after their user was deleted, want 0", n, table)
		}
	}
}

// Every foreign key's child columns lead an index: without one, each deleted session (ended
// sign-ins, time-outs swept by the hundred) would scan the child table whole, under the write
// lock.
func TestEveryForeignKeyIsIndexed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	open(t, path)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := column(t, db, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`)
	for _, table := range tables {
		keys := make(map[int][]string) // foreign key id → its child columns, in order
		rows, err := db.Query(`SELECT id, "from" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			var col string
			if err := rows.Scan(&id, &col); err != nil {
				t.Fatal(err)
			}
			keys[id] = append(keys[id], col)
		}
		rows.Close()
		// Leading columns of each index, the primary key's included (an autoindex, or the
		// table itself for WITHOUT ROWID and INTEGER PRIMARY KEY). A partial index counts: the
		// ones here are WHERE x IS NOT NULL, which a lookup x = ? may use.
		var leads [][]string
		for _, idx := range column(t, db, `SELECT name FROM pragma_index_list(?)`, table) {
			leads = append(leads, column(t, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, idx))
		}
		leads = append(leads, column(t, db, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table))
		for _, cols := range keys {
			if !slices.ContainsFunc(leads, func(lead []string) bool {
				return len(lead) >= len(cols) && slices.Equal(lead[:len(cols)], cols)
			}) {
				t.Errorf("%s (%s) references another table without an index led by those columns", table, strings.Join(cols, ", "))
			}
		}
	}
}

func column(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
