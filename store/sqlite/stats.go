package sqlite

import (
	"context"
	"database/sql"

	"github.com/hmisauth/hmisauth"
)

// Stats implements hmisauth.Store, reading both counts in one read transaction.
func (s *Store) Stats(ctx context.Context) (st hmisauth.StoreStats, err error) {
	defer wrap(&err, "stats")
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `
		SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND abandoned_at IS NULL`).
		Scan(&st.MailQueued, timeCol{&st.OldestQueued}); err != nil {
		return st, err
	}
	err = tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&st.AuditEvents)
	return st, err
}
