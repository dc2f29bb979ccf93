// Package teststore opens the Store a package's tests run on: SQLite by default, or
// PostgreSQL when HMISAUTH_TEST_STORE=postgres (`make test` runs the web and rules tests both
// ways), so behaviour above the Store is proved on both backends.
package teststore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/postgres"
	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// EnvVar names the variable that chooses the backend: "sqlite" (or empty) or "postgres".
const EnvVar = "HMISAUTH_TEST_STORE"

// Postgres reports whether tests run on PostgreSQL.
func Postgres() bool { return os.Getenv(EnvVar) == "postgres" }

// Open opens an empty, migrated Store for t, closed when t ends.
func Open(t testing.TB) hmisauth.Store {
	t.Helper()
	ctx := context.Background()
	switch b := os.Getenv(EnvVar); b {
	case "", "sqlite":
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "hmisauth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	case "postgres":
		st, err := postgres.Open(ctx, pgtest.Migrated(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", EnvVar, b)
		return nil
	}
}
