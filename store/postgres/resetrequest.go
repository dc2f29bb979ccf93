package postgres

import (
	"cmp"
	"context"
	"errors"
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

// claimResetRequests leases the oldest requests no worker holds in one statement, run on the
// pool without the write lock (unless ctx carries events). The subquery locks the rows it
// picks FOR UPDATE, and SKIP LOCKED passes over rows another claim (or end) has locked, so
// parallel claims in any process neither wait for each other nor pick the same row. A row
// that another claim leased and committed after this statement began is checked again on its
// new version when it is locked (READ COMMITTED), and dropped as leased. The lock is held
// until the lease is written, in the same statement.
const claimResetRequests = `
	UPDATE reset_requests SET leased_until = $1
	WHERE id IN (
		SELECT id FROM reset_requests
		WHERE leased_until IS NULL OR leased_until <= $2
		ORDER BY id
		LIMIT $3
		FOR UPDATE SKIP LOCKED)
	RETURNING id, site, username, client_addr, at, leased_until`

// ClaimResetRequests leases up to limit requests until now+lease and returns them oldest first,
// with LeasedUntil the lease's end as stored.
func (s *Store) ClaimResetRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) (_ []*hmisauth.ResetRequest, err error) {
	defer wrap(&err, "claim reset requests")
	// Shorter would round to no lease at all, and a later claim could store the same end as
	// an earlier one, so that the earlier worker's EndResetRequest would still match.
	if lease < time.Microsecond {
		return nil, errors.New("the lease must be at least a microsecond")
	}
	if limit <= 0 {
		return nil, nil
	}
	var out []*hmisauth.ResetRequest
	err = s.exec(ctx, func(w dbtx) error {
		out = nil
		rows, err := w.QueryContext(ctx, claimResetRequests, timeArg(now.Add(lease)), timeArg(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := &hmisauth.ResetRequest{}
			if err := rows.Scan(&r.ID, &r.Site, &r.Username, &r.ClientAddr, timeCol{&r.At}, timeCol{&r.LeasedUntil}); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	// RETURNING gives rows in no particular order.
	slices.SortFunc(out, func(a, b *hmisauth.ResetRequest) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// EndResetRequest deletes a handled request while r's lease is still its current one; see
// hmisauth.Store. One guarded DELETE: if a claim is re-leasing the row at the same moment,
// the DELETE waits for it and then checks the lease on the new version, matching nothing.
func (s *Store) EndResetRequest(ctx context.Context, r *hmisauth.ResetRequest) (ended bool, err error) {
	defer wrap(&err, "end reset request")
	if r.LeasedUntil.IsZero() {
		return false, errors.New("the request was not claimed")
	}
	err = s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM reset_requests WHERE id = $1 AND leased_until = $2`,
			r.ID, timeArg(r.LeasedUntil))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ended = n == 1
		return err
	})
	return ended, err
}
