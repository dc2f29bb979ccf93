package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hmisauth/hmisauth"
)

// QueueResetRequest records a "forgot password" request; see hmisauth.Store.
func (s *Store) QueueResetRequest(ctx context.Context, r *hmisauth.ResetRequest) (err error) {
	defer wrap(&err, "queue reset request")
	return s.exec(ctx, func(w dbtx) error {
		return w.QueryRowContext(ctx, `
			INSERT INTO reset_requests (site, username, client_addr, at) VALUES ($1, $2, $3, $4) RETURNING id`,
			r.Site, r.Username, r.ClientAddr, timeArg(r.At)).Scan(&r.ID)
	})
}

// TakeResetRequests removes and returns the oldest queued requests in one statement, so each
// goes to exactly one caller: FOR UPDATE SKIP LOCKED passes over the rows a parallel caller (at
// any process) is taking, instead of waiting for them and then deleting nothing. RETURNING
// gives no order, so they are sorted back, oldest first.
func (s *Store) TakeResetRequests(ctx context.Context, limit int) (_ []*hmisauth.ResetRequest, err error) {
	defer wrap(&err, "take reset requests")
	var n any = limit
	if limit < 0 {
		n = nil // no limit, as SQLite's LIMIT -1 (PostgreSQL refuses a negative one)
	}
	var out []*hmisauth.ResetRequest
	err = s.exec(ctx, func(w dbtx) error {
		out = nil
		rows, err := w.QueryContext(ctx, `
			DELETE FROM reset_requests
			WHERE id IN (SELECT id FROM reset_requests ORDER BY id LIMIT $1::bigint FOR UPDATE SKIP LOCKED)
			RETURNING id, site, username, client_addr, at`, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := &hmisauth.ResetRequest{}
			var at time.Time
			if err := rows.Scan(&r.ID, &r.Site, &r.Username, &r.ClientAddr, timeCol{&at}); err != nil {
				return err
			}
			r.At = at
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *hmisauth.ResetRequest) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
