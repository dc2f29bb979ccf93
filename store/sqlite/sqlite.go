package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the hmisauth.Store on one SQLite file.
type Store struct {
	// w is the only connection that writes: SQLite allows one writer at a time, so queueing
	// writers in database/sql is cheaper and fairer than letting them spin on the file lock.
	// Its transactions BEGIN IMMEDIATE, taking the write lock up front, so a transaction that
	// reads then writes cannot fail half-way because another process wrote in between.
	w *sql.DB
	// r serves reads in parallel; in WAL mode they never wait for the writer.
	r *sql.DB
	// ws and rs are the pools' prepared statements (see stmts).
	ws, rs *stmts
	// ckpt copies the write-ahead log into the database in the background (see
	// checkpointer), so that no commit pays for it.
	ckpt *checkpointer
}

var _ hmisauth.Store = (*Store)(nil)

// busyTimeout is how long a statement waits for another process's write to finish before
// failing; a CLI command's transaction or a checkpoint takes milliseconds.
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the database file at path, creating its directory too.
// Call Migrate before using a new file.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create the database directory: %w", err)
	}

	w, err := sql.Open("sqlite", dsn(abs, "_txlock=immediate", "_pragma=journal_mode(WAL)",
		"_pragma=wal_autocheckpoint(0)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	// The writer connects first so the file is in WAL mode before any reader opens it.
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	r, err := sql.Open("sqlite", dsn(abs, "_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	ckpt, err := startCheckpointer(abs)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return &Store{w: w, r: r, ws: &stmts{db: w}, rs: &stmts{db: r}, ckpt: ckpt}, nil
}

// dsn is the driver's connection string for the file: a file: URI, so a path with '?' or '#'
// in it still names the file, followed by the pragmas every connection needs.
func dsn(path string, extra ...string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:/C:/…
	}
	params := append([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		// NORMAL in WAL mode loses at most the last transactions on power loss, never
		// consistency, and saves an fsync per commit.
		"_pragma=synchronous(NORMAL)",
	}, extra...)
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + strings.Join(params, "&")
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// No global registry: the provider knows only this package's embedded files.
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	// Two processes starting on a new file both see the migrations pending; the second to get
	// the write lock fails on tables the first created, while the first may still be applying
	// later ones (each migration is its own transaction). So a failure is retried until nothing
	// is pending, which is success all the same, or the other process has stopped making
	// progress for a while.
	for try := range 50 {
		if _, err = p.Up(ctx); err == nil {
			return nil
		}
		if pending, perr := p.HasPending(ctx); perr == nil && !pending {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlite: migrate: %w", ctx.Err())
		case <-time.After(time.Duration(10+try*10) * time.Millisecond):
		}
	}
	return fmt.Errorf("sqlite: migrate: %w", err)
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close stops the background checkpoint (running a last one) and closes both connection
// pools with their prepared statements.
func (s *Store) Close() error {
	return errors.Join(s.ckpt.stop(), s.rs.close(), s.ws.close(), s.r.Close(), s.w.Close())
}

// write runs fn in one write transaction, then appends the events ctx carries in it: the log
// records the change exactly when the change is made. When anything fails, neither is
// written, and the events are left unnumbered.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.writeEvents(ctx, hmisauth.EventsOf(ctx), fn)
}

// writeEvents runs fn in one write transaction and appends evs after it.
func (s *Store) writeEvents(ctx context.Context, evs []*hmisauth.Event, fn func(tx *sql.Tx) error) error {
	if err := s.warm(ctx, chainHead, insertEvent); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
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

// dbtx is the writer connection or a transaction on it.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec runs a write that is a single statement (or a few that need no transaction together).
// When ctx carries no events it runs straight on the writer, w being s.w: sign-in is hot, and
// one statement needs no transaction. When ctx carries events it runs in a transaction with
// them, w being the transaction.
func (s *Store) exec(ctx context.Context, fn func(w dbtx) error) error {
	if len(hmisauth.EventsOf(ctx)) == 0 {
		return fn(s.w)
	}
	return s.write(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// wrap names the operation on an unexpected error, for the log. Application errors pass
// untouched: their message is written for the user.
func wrap(err *error, op string) {
	if *err != nil && hmisauth.AsError(*err) == nil {
		*err = fmt.Errorf("sqlite: %s: %w", op, *err)
	}
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
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
			if err := ifNone(s.reader(w)); err != nil {
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

// Times are stored as INTEGER microseconds since the epoch (PostgreSQL's precision, so both
// backends round-trip the same values); the zero time is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeCol scans a time column into *t, in UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

func dateArg(d hmisauth.Date) any {
	if d.IsZero() {
		return nil
	}
	return string(d)
}

// dateCol scans a date column into *d.
type dateCol struct{ d *hmisauth.Date }

func (c dateCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.d = ""
	case string:
		*c.d = hmisauth.Date(v)
	case []byte:
		*c.d = hmisauth.Date(v)
	default:
		return fmt.Errorf("date column holds %T", v)
	}
	return nil
}
