package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hmisauth/hmisauth"
)

// RecordPolicy records the site's policy in force, appending ctx's events when it changed:
// one conditional update, so of servers starting at once with one new policy one records it.
func (s *Store) RecordPolicy(ctx context.Context, site, policy string) (changed bool, err error) {
	defer wrap(&err, "record policy")
	return s.once(ctx, func(q queryer) error {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM sites WHERE key = ?1`, site).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no site called %q.", site)
		}
		return err
	}, `UPDATE sites SET policy = ?2 WHERE key = ?1 AND policy <> ?2`, site, policy)
}
