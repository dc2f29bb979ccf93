package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmts is one pool's prepared statements, by query text: a statement on a hot path is parsed
// once per connection instead of at every call, which was about half the cost of a lookup by
// key. Only constant query texts go in (never one built from a query's filters), so it stays
// small.
type stmts struct {
	db *sql.DB
	m  sync.Map // query → *sql.Stmt
}

// prepare returns query's statement, preparing it on first use. On the writer pool it must not
// be called inside a transaction: preparing waits for the pool's one connection, which the
// transaction holds.
func (c *stmts) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (c *stmts) close() error {
	var errs []error
	c.m.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}

// errRow is a row whose statement could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// readRow runs a constant query for one row on the reader pool, prepared once. It is for
// lookups by key, which take microseconds and never wait for a lock (WAL readers do not), so
// the query does not follow ctx's cancellation: the driver would start a goroutine per
// statement to watch it, a fifth of a lookup's cost.
func (s *Store) readRow(ctx context.Context, query string, args ...any) scanner {
	st, err := s.rs.prepare(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(context.WithoutCancel(ctx), args...)
}

// warm prepares the writer's statements a write is about to run in its transaction (txExec,
// txRow), before it begins.
func (s *Store) warm(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		if _, err := s.ws.prepare(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// txExec runs a constant statement in tx, through its prepared statement if warm made it,
// else parsed afresh.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.ws.m.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txRow runs a constant query for one row in tx, like txExec.
func (s *Store) txRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := s.ws.m.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
