package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// Stats implements hmisauth.Store, reading both counts in one read transaction.
func (s *Store) Stats(ctx context.Context) (st hmisauth.StoreStats, err error) {
	defer wrap(&err, "stats")
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	return sqlstore.Stats(ctx, tx, func(t *time.Time) any { return timeCol{t} })
}
