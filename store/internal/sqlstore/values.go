package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ListArg stores a list of strings as a JSON array (SQLite's TEXT, PostgreSQL's JSONB); nil
// and empty alike are "[]".
func ListArg(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, err := json.Marshal(l)
	if err != nil {
		panic(err) // a []string always marshals
	}
	return string(b)
}

// ListCol scans a JSON array of strings into the list ScanList made it for; an empty array is
// nil.
type ListCol struct{ l *[]string }

// ScanList is a Scan destination that fills *l from a column ListArg wrote.
func ScanList(l *[]string) ListCol { return ListCol{l} }

// Scan implements sql.Scanner.
func (c ListCol) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("list column holds %T", v)
	}
	*c.l = nil
	if len(b) == 0 || string(b) == "[]" {
		return nil
	}
	return json.Unmarshal(b, c.l)
}

// TextArg stores "" ("none") as NULL, for columns whose NULL means none.
func TextArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// IDArg stores 0 ("none") as NULL so foreign keys hold.
func IDArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Now is the time for rows the Store stamps itself (CreatedAt left zero by the caller),
// at the precision it is stored with, so the caller's copy equals what a lookup returns.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// NameKey is how agency (and application) names are compared: "Hope House" and "hope house " are one agency.
func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// EscapeLike makes s match itself literally in a LIKE pattern with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
