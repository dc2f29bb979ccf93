package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// The daily retention job must not read the whole of a large table to find the few rows it
// removes, nor hold the write lock while it does: each statement's search goes through an
// index, where the table has one for it.
func TestRetentionSearchesByIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hmisauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	site := []any{"live", 1, retainBatch}
	window := []any{1, retainBatch}
	for _, q := range []struct {
		name, query string
		args        []any
		index       string
	}{
		{"sent mail", retainSentMail, site, "USING INDEX outbox_created"},
		{"abandoned mail", retainAbandonedMail, site, "USING INDEX outbox_created"},
		// Each row's account is looked up by UNIQUE (site, username_key).
		{"unknown usernames", retainUnknownUsernames, site, "USING COVERING INDEX sqlite_autoindex_users_1"},
		{"rate limits", retainRateLimits, window, "USING COVERING INDEX rate_limits_end"},
		{"address attempts", retainAddressAttempts, window, "USING COVERING INDEX address_attempts_end"},
		{"form tokens", retainFormTokens, window, "USING COVERING INDEX form_tokens_expires"},
	} {
		rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.query, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, q.index) {
			t.Errorf("%s: the plan does not use %s:\n%s", q.name, q.index, text)
		}
	}
}
