package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// Remind records r and queues ms in one transaction. The record is one INSERT … ON CONFLICT DO
// NOTHING on the reminder's identity: of parallel callers only the first inserts the row, and
// only it queues the e-mails and appends the events.
func (s *Store) Remind(ctx context.Context, r hmisauth.Reminder, ms []*hmisauth.Message) (reminded bool, err error) {
	defer wrap(&err, "remind")
	if r.At.IsZero() {
		r.At = sqlstore.Now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO reminders (site, kind, target_id, due, at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (kind, target_id, due) DO NOTHING`,
			r.Site, r.Kind, r.TargetID, r.Due, timeArg(r.At))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return errUnchanged
		}
		for _, m := range ms {
			if err := enqueue(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return err == nil, err
}
