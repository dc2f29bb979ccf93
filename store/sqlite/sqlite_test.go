package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/sqlite"
	"github.com/hmisauth/hmisauth/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hmisauth.Store { return open(t, filepath.Join(t.TempDir(), "hmisauth.db")) })
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

// A CLI command run while the server runs opens the same file: two Store values must share
// the lockout count exactly.
func TestTwoProcessesShareTheLockout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	server, cli := open(t, path), open(t, path)
	storetest.ParallelReserve(t, []hmisauth.Store{server, cli}, "jdoe", 50, 3)
}

// Seats are decided in a transaction that reads then writes; across processes that only holds
// if the transaction takes the write lock before it reads.
func TestTwoProcessesShareTheSeats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hmisauth.db")
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	a := &hmisauth.Agency{Site: "live", Name: "Hope House", Seats: 5}
	if err := stores[0].CreateAgency(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			errs <- stores[i%2].CreateUser(t.Context(), &hmisauth.User{
				Site: "live", Username: fmt.Sprintf("user%02d", i), AgencyID: a.ID})
		}()
	}
	created := 0
	for range 40 {
		switch err := <-errs; hmisauth.ErrorCode(err) {
		case "":
			created++
		case hmisauth.ESeatsFull:
		default:
			t.Errorf("CreateUser: %v", err)
		}
	}
	if created != 5 {
		t.Errorf("%d users created into 5 seats from two processes, want 5", created)
	}
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
