package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/hmisauth/hmisauth"
)

// Stats is Store.Stats's reading, in tx (a read snapshot the backend opened): the outbox's
// waiting messages and the oldest of them, and the audit log's length. timeCol scans a time
// column as the backend stores it.
func Stats(ctx context.Context, tx *sql.Tx, timeCol func(*time.Time) any) (st hmisauth.StoreStats, err error) {
	if err := tx.QueryRowContext(ctx, `
		SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND abandoned_at IS NULL`).
		Scan(&st.MailQueued, timeCol(&st.OldestQueued)); err != nil {
		return st, err
	}
	err = tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&st.AuditEvents)
	return st, err
}
