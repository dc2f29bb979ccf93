package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/jackc/pgx/v5/pgconn"
)

// Errors that mean the database is out of reach become "unavailable" (a 503 that says try
// again); a statement the database refused stays what it is.
func TestOnlyAnUnreachableDatabaseIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("failed to connect: %w", refused), true},
		{"connection broken under a statement", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"closed connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"caller gave up", context.Canceled, false},
	} {
		err := unavailable(c.err)
		if got := hmisauth.ErrorCode(err) == hmisauth.EUnavailable; got != c.want {
			t.Errorf("%s: unavailable = %v, want %v (%v)", c.name, got, c.want, err)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s: the cause was lost: %v", c.name, err)
		}
	}
}
