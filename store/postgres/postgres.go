package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the hmisauth.Store on a PostgreSQL database, which several server processes (and
// CLI commands) may share.
type Store struct {
	// pool is pgx's connection pool; db is database/sql over it, which the queries use, so
	// both backends are written the same way (rows, transactions, scanners). pgx prepares and
	// caches each statement per connection by itself.
	pool *pgxpool.Pool
	db   *sql.DB
}

var _ hmisauth.Store = (*Store)(nil)

// Defaults for what the database URL leaves out.
const (
	// connectTimeout bounds how long a request waits for a connection to a database that does
	// not answer: it gets a clear "unavailable" instead of hanging.
	connectTimeout = 5 * time.Second
	// statementTimeout bounds one statement on the server, and lockTimeout a wait for a row
	// or the write lock, so nothing queues forever behind a stuck session.
	statementTimeout = 30 * time.Second
	lockTimeout      = 15 * time.Second
)

// Open connects a pool to the database at url (postgres://user:password@host:port/db?…, any
// parameter pgx takes: sslmode, pool_max_conns, default_query_exec_mode …). It does not wait
// for the database: a server starts while it is down and answers "unavailable" until it is
// back. Call Migrate before using a new database.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, password included: say only what is wrong.
		return nil, errors.New("postgres: the database URL is not valid (postgres://user:password@host:port/database?sslmode=…)")
	}
	if !strings.Contains(url, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the CPU count, at least 4) is too few: a request's transaction waits
		// for the write lock holding its connection, and the reads of other requests need
		// theirs meanwhile.
		cfg.MaxConns = int32(max(20, 4*runtime.NumCPU()))
	}
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["statement_timeout"]; !ok {
		rp["statement_timeout"] = fmt.Sprint(statementTimeout.Milliseconds())
	}
	if _, ok := rp["lock_timeout"]; !ok {
		rp["lock_timeout"] = fmt.Sprint(lockTimeout.Milliseconds())
	}
	rp["timezone"] = "UTC"
	if _, ok := rp["application_name"]; !ok {
		rp["application_name"] = "hmisauth"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	// database/sql holds the connections it takes from the pool, busy or idle. It must never
	// ask for more than the pool has: with no limit of its own it would not queue a request
	// behind a busy connection but block in the pool's acquire, while the connections it
	// gets back sit in its idle list where no one blocked there can take them. With the same
	// limit it queues requests itself, and keeps its connections (and their prepared
	// statements) instead of acquiring one per statement. Connections it keeps are renewed
	// now and then, like the pool's own.
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	return &Store{pool: pool, db: db}, nil
}

// migrateLockID is the session advisory lock goose takes while migrating, so that several
// processes starting at once on a new database apply each migration once.
const migrateLockID = 0x686d6973_6d6967 // "hmismig"

// Migrate brings the schema up to date, waiting for another process that is migrating.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrateLockID))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, s.db, sub,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", unavailable(err))
	}
	return nil
}

// Ping checks the database answers a query (not only that a connection opens).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("postgres: ping: %w", unavailable(err))
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	err := s.db.Close()
	s.pool.Close()
	return err
}

// writeLock is the transaction-scoped advisory lock every write transaction takes first. It
// makes the store's transactions run one at a time, as SQLite's BEGIN IMMEDIATE does, so a
// transaction that reads then writes (seats left, the last second factor, the audit chain's
// head) decides on what no other process can change until it commits. Single statements that
// need no transaction (counting a failed attempt, using a code, touching a session) do not
// take it: each is atomic by itself at READ COMMITTED, and they are what sign-in runs.
// pg_advisory_xact_lock is released at COMMIT or ROLLBACK, so it also works behind PgBouncer
// in transaction mode.
const writeLock = `SELECT pg_advisory_xact_lock(7234575172309562993)`

// maxTries bounds how often a transaction or statement that met a serialization failure or a
// deadlock (40001, 40P01) is run again.
const maxTries = 5

// write runs fn in one write transaction, then appends the events ctx carries in it: the log
// records the change exactly when the change is made. When anything fails, neither is
// written, and the events are left unnumbered.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeEvents(ctx, hmisauth.EventsOf(ctx), fn)
}

// writeEvents runs fn in one write transaction under the write lock and appends evs after
// it. A serialization failure or deadlock runs it all again, a bounded number of times; fn
// must do nothing outside the transaction that a second run would do twice.
func (s *Store) writeEvents(ctx context.Context, evs []*hmisauth.Event, fn func(tx *sql.Tx) error) error {
	return retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, writeLock); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		if err := fn(tx); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		if err := s.appendEvents(ctx, tx, evs); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		if err := tx.Commit(); err != nil {
			sqlstore.ForgetEvents(evs)
			return err
		}
		return nil
	})
}

// retry runs fn again after a serialization failure or a deadlock, up to maxTries times.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for try := range maxTries {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(1+try*try) * time.Millisecond):
		}
	}
	return err
}

// retryable reports whether err is a serialization failure or a deadlock, which PostgreSQL
// asks the client to retry.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// decide runs fn in one write transaction for a write whose outcome is decided inside it.
// fn answers whether it changed something, which appends the events ctx carries after it;
// an answer, an error for the caller that does not undo the transaction (a replayed code, a
// reused refresh token: the revocation must stay); and err, which rolls everything back.
func (s *Store) decide(ctx context.Context, fn func(tx *sql.Tx) (changed bool, answer, err error)) error {
	evs := hmisauth.EventsOf(ctx)
	var answer error
	logged := false
	err := s.writeEvents(ctx, nil, func(tx *sql.Tx) error {
		if logged {
			sqlstore.ForgetEvents(evs) // appended by a run that was rolled back, to be run again
		}
		answer, logged = nil, false
		changed, ans, err := fn(tx)
		if err != nil {
			return err
		}
		answer = ans
		if changed && len(evs) > 0 {
			if err := s.appendEvents(ctx, tx, evs); err != nil {
				return err
			}
			logged = true
		}
		return nil
	})
	if err != nil {
		if logged {
			sqlstore.ForgetEvents(evs) // appended, then the commit failed
		}
		return err
	}
	return answer
}

// dbtx is the pool or a transaction.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec runs a write that is a single statement (or a few that need no transaction together).
// When ctx carries no events it runs straight on the pool, w being s.db, without the write
// lock: one statement is atomic by itself. When ctx carries events it runs in a write
// transaction with them, w being the transaction.
func (s *Store) exec(ctx context.Context, fn func(w dbtx) error) error {
	if len(hmisauth.EventsOf(ctx)) == 0 {
		return retry(ctx, func() error { return fn(s.db) })
	}
	return s.write(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// readRow runs a query for one row on the pool.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, query, args...)
}

// wrap names the operation on an unexpected error, for the log, and turns a database that
// cannot be reached into hmisauth.EUnavailable. Application errors pass untouched: their
// message is written for the user.
func wrap(err *error, op string) {
	if *err != nil && hmisauth.AsError(*err) == nil {
		*err = fmt.Errorf("postgres: %s: %w", op, unavailable(*err))
	}
}

// unavailable wraps err, when it means the database could not be reached or is shutting
// down, with an EUnavailable error (keeping err for the log); other errors pass unchanged.
func unavailable(err error) error {
	if err == nil || hmisauth.AsError(err) != nil || !unreachable(err) {
		return err
	}
	return errors.Join(hmisauth.ErrUnavailable(), err)
}

// unreachable reports whether err says the database is out of reach rather than that a
// statement was wrong: no connection could be made, the connection broke, or the server is
// starting, shutting down or out of connections.
func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "57P"), // admin shutdown, crash shutdown, cannot connect now
			pe.Code == "53300":                // too many connections
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return false
	}
	// A connection that broke under a statement: pgx wraps the network error (refused,
	// reset, broken pipe) or the end of the stream, with no PgError.
	var ne net.Error
	return errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// uniqueConstraint is the name of the constraint a unique violation broke ("" if err is not
// one), for telling which of a table's keys clashed.
func uniqueConstraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

// errUnchanged rolls back a write that found nothing to do (a code replayed, a reminder sent
// already), so the events its context carries are not appended: they would record a change
// that did not happen.
var errUnchanged = errors.New("nothing to change")

// once runs a single statement that does something at most once (spends a code, removes a
// challenge) and reports whether it changed a row. When it changed none, the events ctx
// carries are not appended; ifNone, when not nil, is asked first whether that is an error
// (no such user), reading what the statement saw.
func (s *Store) once(ctx context.Context, ifNone func(q queryer) error, query string, args ...any) (done bool, err error) {
	err = s.exec(ctx, func(w dbtx) error {
		done = false
		res, err := w.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		switch {
		case err != nil:
			return err
		case n > 0:
			done = true
			return nil
		case ifNone != nil:
			if err := ifNone(w); err != nil {
				return err
			}
		}
		return errUnchanged
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return done && err == nil, err
}

// Times are TIMESTAMPTZ, which keeps microseconds, like SQLite's INTEGER microseconds; the
// zero time is NULL.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// timeCol scans a TIMESTAMPTZ column into *t, in UTC; NULL is the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

// dateArg stores a date ('YYYY-MM-DD') in a DATE column; "" is NULL.
func dateArg(d hmisauth.Date) any {
	if d.IsZero() {
		return nil
	}
	return string(d)
}

// dateCol scans a DATE column into *d.
type dateCol struct{ d *hmisauth.Date }

func (c dateCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.d = ""
	case time.Time:
		*c.d = hmisauth.Date(v.Format(time.DateOnly))
	case string:
		*c.d = hmisauth.Date(v)
	default:
		return fmt.Errorf("date column holds %T", v)
	}
	return nil
}
