// Package pgtest gives tests their own PostgreSQL databases on the test server that
// scripts/postgres.sh starts for `make test` (its URL in HMISAUTH_TEST_POSTGRES): an empty
// one, or one with hmisauth's schema, cloned from a template migrated once per test binary.
// Each database is dropped when its test ends.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth/store/postgres"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvVar names the variable holding the test server's URL (any database on it).
const EnvVar = "HMISAUTH_TEST_POSTGRES"

// ServerURL is the test server's URL. Without one the test is skipped, except under CI,
// where a missing server is a failure: a backend left untested must not pass.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: `make test` starts PostgreSQL (scripts/postgres.sh)", EnvVar)
		}
		t.Skipf("no PostgreSQL for this test: set %s, or run `make test`", EnvVar)
	}
	return u
}

var (
	seq      atomic.Int64
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// prefix names this test binary's databases: its process ID keeps parallel packages apart.
func prefix() string { return fmt.Sprintf("hmisauth_t%d", os.Getpid()) }

// Empty creates an empty database for t and returns its URL.
func Empty(t testing.TB) string {
	t.Helper()
	return create(t, "")
}

// Migrated creates a database with hmisauth's schema for t and returns its URL.
func Migrated(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	tmplOnce.Do(func() {
		tmplName = prefix() + "_template"
		tmplErr = func() error {
			if err := admin(server, func(db *sql.DB) error {
				_, err := db.Exec(`CREATE DATABASE ` + tmplName)
				return err
			}); err != nil {
				return err
			}
			ctx := context.Background()
			s, err := postgres.Open(ctx, withDatabase(server, tmplName))
			if err != nil {
				return err
			}
			defer s.Close()
			return s.Migrate(ctx)
		}()
	})
	if tmplErr != nil {
		t.Fatalf("pgtest: the migrated template: %v", tmplErr)
	}
	return create(t, tmplName)
}

// create makes a new database (a copy of template when not "") dropped when t ends.
func create(t testing.TB, template string) string {
	t.Helper()
	server := ServerURL(t)
	name := fmt.Sprintf("%s_%d", prefix(), seq.Add(1))
	stmt := `CREATE DATABASE ` + name
	if template != "" {
		stmt += ` TEMPLATE ` + template
	}
	err := admin(server, func(db *sql.DB) error {
		// Two copies of one template at the same instant may find it "being accessed".
		for try := 0; ; try++ {
			_, err := db.Exec(stmt)
			var pe *pgconn.PgError
			if err == nil || try == 50 || !errors.As(err, &pe) || pe.Code != "55006" {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
	t.Cleanup(func() {
		if err := admin(server, func(db *sql.DB) error {
			_, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			return err
		}); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(server, name)
}

// admin runs fn on a short-lived connection to the server's maintenance database.
func admin(server string, fn func(*sql.DB) error) error {
	db, err := sql.Open("pgx", server)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return fn(db)
}

// withDatabase is server's URL naming database name instead.
func withDatabase(server, name string) string {
	u, err := url.Parse(server)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		panic(fmt.Sprintf("pgtest: %s is not a postgres:// URL", EnvVar))
	}
	u.Path = "/" + name
	return u.String()
}
