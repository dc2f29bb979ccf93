package postgres_test

import (
	"context"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/postgres"
	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
	"github.com/hmisauth/hmisauth/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hmisauth.Store { return open(t, pgtest.Migrated(t)) })
}

// Two processes on one database: each Store has its own connection pool.
func TestTwoProcesses(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) []hmisauth.Store {
		url := pgtest.Migrated(t)
		return []hmisauth.Store{open(t, url), open(t, url)}
	})
}

// open connects to the database at url, closing the pool when the test ends.
func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}
