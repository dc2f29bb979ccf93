package sqlite

import (
	"context"
	"iter"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// TestDumpGivesEveryTableParentsFirst dumps a migrated database with a few rows: every
// application table comes once, after the tables its foreign keys reference, goose's table
// not at all, and rows come in insertion order with SQLite's own values.
func TestDumpGivesEveryTableParentsFirst(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "dump.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 15, 30, 0, 123456000, time.UTC)
	for _, name := range []string{"Zeta Shelter", "Alpha House"} {
		if err := s.CreateAgency(ctx, &hmisauth.Agency{Site: "live", Name: name, LicenseExpires: "2099-06-30", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}

	var want []string
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		want = append(want, name)
	}
	rows.Close()

	seen := map[string]bool{}
	var agencies [][]any
	var agencyCols []string
	err = s.Dump(ctx, func(name string, columns []string, rows iter.Seq2[[]any, error]) error {
		if seen[name] {
			t.Errorf("%s dumped twice", name)
		}
		fks, err := s.r.QueryContext(ctx, `SELECT "table" FROM pragma_foreign_key_list(?)`, name)
		if err != nil {
			return err
		}
		for fks.Next() {
			var parent string
			fks.Scan(&parent)
			if parent != name && !seen[parent] {
				t.Errorf("%s came before %s, which its foreign key references", name, parent)
			}
		}
		fks.Close()
		seen[name] = true
		for row, err := range rows {
			if err != nil {
				return err
			}
			if name == "agencies" {
				agencies, agencyCols = append(agencies, row), columns
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(want) || seen["goose_db_version"] {
		t.Errorf("dumped %d tables %v, want %v", len(seen), seen, want)
	}
	for _, name := range want {
		if !seen[name] {
			t.Errorf("%s was not dumped", name)
		}
	}
	if len(agencies) != 2 {
		t.Fatalf("agencies: %v", agencies)
	}
	col := func(row []any, name string) any {
		for i, c := range agencyCols {
			if c == name {
				return row[i]
			}
		}
		t.Fatalf("no column %s in %v", name, agencyCols)
		return nil
	}
	if col(agencies[0], "name") != "Zeta Shelter" || col(agencies[1], "name") != "Alpha House" {
		t.Errorf("agencies not in insertion order: %v", agencies)
	}
	if v := col(agencies[0], "created_at"); v != at.UnixMicro() {
		t.Errorf("created_at is %T %v, want the microseconds %d", v, v, at.UnixMicro())
	}
	if v := col(agencies[0], "license_expires"); v != "2099-06-30" {
		t.Errorf("license_expires is %T %v", v, v)
	}
	if v := col(agencies[0], "license_starts"); v != nil {
		t.Errorf("license_starts is %T %v, want nil", v, v)
	}
}

func TestParentsFirst(t *testing.T) {
	order, err := parentsFirst([]dumpedTable{
		{name: "child", parents: []string{"parent", "elsewhere"}},
		{name: "parent", parents: []string{"parent"}},
		{name: "other"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range order {
		names = append(names, tb.name)
	}
	if got := strings.Join(names, " "); got != "parent child other" {
		t.Errorf("order %q", got)
	}
	_, err = parentsFirst([]dumpedTable{{name: "a", parents: []string{"b"}}, {name: "b", parents: []string{"a"}}})
	if err == nil || !strings.Contains(err.Error(), "a, b form a cycle") {
		t.Errorf("a cycle: %v", err)
	}
}
