package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Dump reads every application table (all but SQLite's own and goose's version table) and
// calls table once for each, with its column names and its rows, each row's values as SQLite
// holds them: int64, float64, string, []byte or nil. It is what copy-data copies into
// PostgreSQL (postgres.Store.CopyFrom).
//
// Everything is read in one read transaction, so the tables are one consistent snapshot even
// while a server writes (WAL readers never block nor wait for the writer): the copy of a
// running installation holds what it held at one instant, and nothing written after.
//
// Tables come parents first: each after every table its foreign keys reference, so inserting
// them in this order satisfies the keys as it goes; otherwise in the order they were created.
// A rowid table's rows come in rowid order, the order they were inserted, which a target that
// has no rowid needs to keep (oidc_session_clients breaks ties of first_at by it); a WITHOUT
// ROWID table's in primary-key order. rows may be ranged over once, during table's call.
func (s *Store) Dump(ctx context.Context, table func(name string, columns []string, rows iter.Seq2[[]any, error]) error) (err error) {
	defer wrap(&err, "dump")
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	// Read-only: there is nothing to commit.
	defer tx.Rollback() //nolint:errcheck
	tables, err := dumpOrder(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := dumpTable(ctx, tx, t, table); err != nil {
			return err
		}
	}
	return nil
}

// dumpedTable is a table as Dump reads it: whether it has a rowid to order its rows by, and
// the tables its foreign keys reference.
type dumpedTable struct {
	name    string
	rowid   bool
	parents []string
}

// dumpOrder lists the application tables parents first. Its first read starts tx's snapshot.
func dumpOrder(ctx context.Context, tx *sql.Tx) ([]dumpedTable, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT s.name, t.wr
		FROM sqlite_schema s JOIN pragma_table_list t ON t.schema = 'main' AND t.name = s.name
		WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND s.name <> 'goose_db_version'
		ORDER BY s.rowid`)
	if err != nil {
		return nil, err
	}
	var tables []dumpedTable
	for rows.Next() {
		var t dumpedTable
		var withoutRowid bool
		if err := rows.Scan(&t.name, &withoutRowid); err != nil {
			rows.Close()
			return nil, err
		}
		t.rowid = !withoutRowid
		tables = append(tables, t)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range tables {
		fks, err := tx.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, tables[i].name)
		if err != nil {
			return nil, err
		}
		for fks.Next() {
			var parent string
			if err := fks.Scan(&parent); err != nil {
				fks.Close()
				return nil, err
			}
			tables[i].parents = append(tables[i].parents, parent)
		}
		if err := fks.Close(); err != nil {
			return nil, err
		}
		if err := fks.Err(); err != nil {
			return nil, err
		}
	}
	return parentsFirst(tables)
}

// parentsFirst orders tables so each comes after the tables its foreign keys reference
// (a reference to itself or to a table not listed does not count), taking at each step the
// first table in the given order whose parents are all placed: the given order itself when it
// already respects the keys, as creation order does.
func parentsFirst(tables []dumpedTable) ([]dumpedTable, error) {
	listed := make(map[string]bool, len(tables))
	for _, t := range tables {
		listed[t.name] = true
	}
	placed := make(map[string]bool, len(tables))
	ready := func(t dumpedTable) bool {
		for _, p := range t.parents {
			if p != t.name && listed[p] && !placed[p] {
				return false
			}
		}
		return true
	}
	order := make([]dumpedTable, 0, len(tables))
	for len(order) < len(tables) {
		i := slices.IndexFunc(tables, func(t dumpedTable) bool { return !placed[t.name] && ready(t) })
		if i < 0 {
			var left []string
			for _, t := range tables {
				if !placed[t.name] {
					left = append(left, t.name)
				}
			}
			return nil, fmt.Errorf("the foreign keys of tables %s form a cycle", strings.Join(left, ", "))
		}
		placed[tables[i].name] = true
		order = append(order, tables[i])
	}
	return order, nil
}

// dumpTable reads one table's rows in tx and hands them to fn.
func dumpTable(ctx context.Context, tx *sql.Tx, t dumpedTable, fn func(string, []string, iter.Seq2[[]any, error]) error) error {
	q := `SELECT * FROM ` + quoteIdent(t.name)
	if t.rowid {
		q += ` ORDER BY rowid`
	}
	rs, err := tx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return err
	}
	rows := func(yield func([]any, error) bool) {
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			// database/sql copies a []byte into an *any, so each row's values stay the
			// caller's after the next row is read.
			if err := rs.Scan(ptrs...); err != nil {
				yield(nil, err)
				return
			}
			if !yield(vals, nil) {
				return
			}
		}
		if err := rs.Err(); err != nil {
			yield(nil, err)
		}
	}
	if err := fn(t.name, cols, rows); err != nil {
		return err
	}
	// A read error fn did not see (it stopped early, or ignored it) still fails the dump.
	return rs.Err()
}

// quoteIdent quotes a table name for SQL.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
