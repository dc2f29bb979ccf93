package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/jackc/pgx/v5"
)

// Source is a database whose rows CopyFrom copies: the SQLite store (sqlite.Store.Dump) is
// one. Dump calls table once per table, parents before the tables whose foreign keys
// reference them, with the table's column names and its rows, all read from one consistent
// snapshot. A row's values are as the source holds them: int64, float64, string, []byte or
// nil. Times are int64 microseconds since the Unix epoch, flags int64 0 or 1, dates
// 'YYYY-MM-DD' strings and lists JSON text, as in the SQLite schema.
type Source interface {
	Dump(ctx context.Context, table func(name string, columns []string, rows iter.Seq2[[]any, error]) error) error
}

// CopyReport is what CopyFrom copied: each table of the source, in the order copied.
type CopyReport struct {
	Tables []CopiedTable `json:"tables"`
}

// CopiedTable is one table copied and its number of rows.
type CopiedTable struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Rows is the number of rows copied in all.
func (r CopyReport) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rows
	}
	return n
}

// CopyFrom copies every row of every table of src into this database, which must have the
// schema (Migrate) and no rows: a database with any row in any table is refused with
// hmisauth.ECONFLICT, naming the tables, and left as it was. Each value is converted by the
// type of the column it goes to (TIMESTAMPTZ from microseconds, BOOLEAN from 0 or 1, DATE
// from 'YYYY-MM-DD', JSONB from JSON text); columns are matched by name, and one the source
// lacks gets its default (oidc_session_clients.seq numbers the rows in the order the source
// gives them, its insertion order). Every identity then continues past the highest id
// copied, so the next insert does not collide with a copied row.
//
// It is all one transaction: a copy that fails anywhere leaves the database as it was. It holds
// the write lock, and locks every table against other writers from the check that they are
// empty to the commit, so a server started on the database too early waits rather than
// writing rows the copy would collide with. Rows go in with COPY, a table at a time, so a
// large audit log streams through without being held in memory.
func (s *Store) CopyFrom(ctx context.Context, src Source) (rep CopyReport, err error) {
	defer wrap(&err, "copy")
	// pgx's own transaction, not database/sql's: COPY is pgx's (CopyFrom), and must run on
	// the connection that holds the transaction.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return rep, err
	}
	defer func() {
		if err != nil {
			// A failed statement or a cancelled ctx leaves nothing to keep; the rollback's
			// own error adds nothing to err.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, writeLock); err != nil {
		return rep, err
	}
	// A large table takes longer to copy than the statement timeout a request is allowed.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return rep, err
	}
	target, err := targetTables(ctx, tx)
	if err != nil {
		return rep, err
	}
	if len(target) == 0 {
		return rep, errors.New("the database has no tables: migrate it first")
	}
	if err := lockEmpty(ctx, tx, target); err != nil {
		return rep, err
	}
	err = src.Dump(ctx, func(name string, columns []string, rows iter.Seq2[[]any, error]) error {
		t, ok := target[name]
		if !ok {
			return fmt.Errorf("the source's table %s is not in the PostgreSQL schema: it is not this version's", name)
		}
		n, err := copyTable(ctx, tx, t, columns, rows)
		if err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		rep.Tables = append(rep.Tables, CopiedTable{Name: name, Rows: n})
		return nil
	})
	if err != nil {
		return rep, err
	}
	if err := continueIdentities(ctx, tx, target); err != nil {
		return rep, err
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// targetTable is one of this database's application tables: its columns' types by name, and
// the columns numbered by a sequence (identities).
type targetTable struct {
	name       string
	types      map[string]string // column → information_schema data_type
	identities []string
}

// targetTables reads the database's tables in the current schema, all but goose's version
// table: hmisauth's, once migrated.
func targetTables(ctx context.Context, q querier) (map[string]*targetTable, error) {
	rows, err := q.Query(ctx, `
		SELECT c.table_name, c.column_name, c.data_type,
		       c.is_identity = 'YES' OR coalesce(c.column_default, '') LIKE 'nextval(%'
		FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND c.table_name <> 'goose_db_version'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tables := map[string]*targetTable{}
	for rows.Next() {
		var table, column, typ string
		var identity bool
		if err := rows.Scan(&table, &column, &typ, &identity); err != nil {
			return nil, err
		}
		t := tables[table]
		if t == nil {
			t = &targetTable{name: table, types: map[string]string{}}
			tables[table] = t
		}
		t.types[column] = typ
		if identity {
			t.identities = append(t.identities, column)
		}
	}
	return tables, rows.Err()
}

// Empty returns nil when no table of the database has a row (goose's record of the
// migrations aside), else the ECONFLICT error CopyFrom refuses such a database with, naming
// the tables that have rows. copy-data asks it before it migrates the database, so that one
// in use, hmisauth's or anything else's, is left as it was.
func (s *Store) Empty(ctx context.Context) (err error) {
	defer wrap(&err, "empty")
	tables, err := targetTables(ctx, s.pool)
	if err != nil {
		return err
	}
	return empty(ctx, s.pool, tables)
}

// lockEmpty locks every table against other writers until the transaction ends (reads go
// on), then refuses with ECONFLICT if any of them has a row.
func lockEmpty(ctx context.Context, tx pgx.Tx, tables map[string]*targetTable) error {
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, pgx.Identifier{name}.Sanitize())
	}
	slices.Sort(names)
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return err
	}
	return empty(ctx, tx, tables)
}

// querier is a transaction or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// empty returns ECONFLICT, naming them, if any of tables has a row.
func empty(ctx context.Context, q querier, tables map[string]*targetTable) error {
	names := slices.Sorted(maps.Keys(tables))
	var full []string
	for _, name := range names {
		var has bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+pgx.Identifier{name}.Sanitize()+`)`).Scan(&has); err != nil {
			return err
		}
		if has {
			full = append(full, name)
		}
	}
	switch len(full) {
	case 0:
		return nil
	case 1:
		return hmisauth.Errorf(hmisauth.ECONFLICT,
			"The target database must be empty, but its table %s has rows: copy into a new database.", full[0])
	default:
		return hmisauth.Errorf(hmisauth.ECONFLICT,
			"The target database must be empty, but its tables %s have rows: copy into a new database.", strings.Join(full, ", "))
	}
}

// copyTable copies one table's rows into t with COPY and returns how many it copied.
func copyTable(ctx context.Context, tx pgx.Tx, t *targetTable, columns []string, rows iter.Seq2[[]any, error]) (int64, error) {
	conv := make([]func(any) (any, error), len(columns))
	for i, c := range columns {
		typ, ok := t.types[c]
		if !ok {
			return 0, fmt.Errorf("the source's column %s is not in the PostgreSQL schema: it is not this version's", c)
		}
		conv[i] = converter(typ)
	}
	next, stop := iter.Pull2(rows)
	defer stop()
	src := &copyRows{next: next, columns: columns, conv: conv, vals: make([]any, len(columns))}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, columns, src)
	if src.err != nil {
		// The source's own error (or a value that does not fit) says more than COPY's.
		return n, src.err
	}
	return n, err
}

// copyRows feeds a source table's rows to pgx's CopyFrom, converting each value for its
// column. pgx asks for them from a goroutine of its own, one call at a time.
type copyRows struct {
	next    func() ([]any, error, bool)
	columns []string
	conv    []func(any) (any, error)
	vals    []any
	row     []any
	err     error
}

func (r *copyRows) Next() bool {
	row, err, ok := r.next()
	switch {
	case !ok:
		return false
	case err != nil:
		r.err = err
		return false
	case len(row) != len(r.columns):
		r.err = fmt.Errorf("a row has %d values for %d columns", len(row), len(r.columns))
		return false
	}
	r.row = row
	return true
}

// Values converts the current row. pgx encodes them before it asks for the next row, so one
// slice serves every row.
func (r *copyRows) Values() ([]any, error) {
	for i, v := range r.row {
		c, err := r.conv[i](v)
		if err != nil {
			r.err = fmt.Errorf("column %s: %w", r.columns[i], err)
			return nil, r.err
		}
		r.vals[i] = c
	}
	return r.vals, nil
}

func (r *copyRows) Err() error { return r.err }

// converter turns a source value into one for a column of PostgreSQL type typ (as
// information_schema names it). NULL stays NULL; a value of a kind the column cannot take
// from the SQLite schema is an error rather than a guess.
func converter(typ string) func(any) (any, error) {
	wrong := func(v any) error { return fmt.Errorf("a %T cannot go into a %s column", v, typ) }
	switch typ {
	case "timestamp with time zone", "timestamp without time zone":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil:
				return nil, nil
			case int64: // microseconds since the epoch
				return time.UnixMicro(v).UTC(), nil
			}
			return nil, wrong(v)
		}
	case "boolean":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil:
				return nil, nil
			case int64:
				if v == 0 || v == 1 {
					return v == 1, nil
				}
				return nil, fmt.Errorf("the flag %d is neither 0 nor 1", v)
			}
			return nil, wrong(v)
		}
	case "date":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil:
				return nil, nil
			case string:
				d, err := time.Parse(time.DateOnly, v)
				if err != nil {
					return nil, fmt.Errorf("the date %q is not written YYYY-MM-DD", v)
				}
				return d, nil
			}
			return nil, wrong(v)
		}
	case "jsonb", "json":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil:
				return nil, nil
			case string:
				if !json.Valid([]byte(v)) {
					return nil, fmt.Errorf("the value %q is not JSON", v)
				}
				return v, nil
			}
			return nil, wrong(v)
		}
	case "bytea":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil, []byte:
				return v, nil
			case string:
				return []byte(v), nil
			}
			return nil, wrong(v)
		}
	case "bigint", "integer", "smallint":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil, int64:
				return v, nil
			}
			return nil, wrong(v)
		}
	case "text", "character varying", "character":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil, string:
				return v, nil
			}
			return nil, wrong(v)
		}
	case "double precision", "real", "numeric":
		return func(v any) (any, error) {
			switch v := v.(type) {
			case nil, float64, int64:
				return v, nil
			}
			return nil, wrong(v)
		}
	}
	// A type the SQLite schema has no counterpart for: pgx encodes what it can.
	return func(v any) (any, error) { return v, nil }
}

// continueIdentities moves each identity (and serial) sequence to the highest value copied
// into its column, so the next row inserted gets the one after.
func continueIdentities(ctx context.Context, tx pgx.Tx, tables map[string]*targetTable) error {
	for _, t := range tables {
		table := pgx.Identifier{t.name}.Sanitize()
		for _, c := range t.identities {
			col := pgx.Identifier{c}.Sanitize()
			// An empty table keeps its sequence's start; HAVING leaves setval uncalled.
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), max(`+col+`)) FROM `+table+
				` HAVING max(`+col+`) IS NOT NULL`, table, c); err != nil {
				return fmt.Errorf("continue %s.%s after the copied rows: %w", t.name, c, err)
			}
		}
	}
	return nil
}
