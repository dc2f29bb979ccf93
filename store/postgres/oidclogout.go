package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// logoutExists is how a report that changed nothing tells "no such notice" (ENOTFOUND) from
// "not leased to this worker any more" (ECONFLICT).
func logoutExists(ctx context.Context, id int64) func(q queryer) error {
	return func(q queryer) error {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM oidc_logout_notices WHERE id = $1`, id).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return sqlstore.NoLogoutNotice()
		case err != nil:
			return err
		}
		return sqlstore.LogoutLeaseLost()
	}
}

const logoutColumns = `id, site, client_id, uri, subject, sid, created_at, attempts, next_attempt_at,
	last_error, sent_at, abandoned_at, lease_until`

func scanLogouts(rows *sql.Rows, err error) ([]*hmisauth.LogoutNotice, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.LogoutNotice
	for rows.Next() {
		n := new(hmisauth.LogoutNotice)
		if err := rows.Scan(&n.ID, &n.Site, &n.ClientID, &n.URI, &n.Subject, &n.SID, timeCol{&n.CreatedAt},
			&n.Attempts, timeCol{&n.NextAttemptAt}, &n.LastError, timeCol{&n.SentAt}, timeCol{&n.AbandonedAt},
			timeCol{&n.LeasedUntil}); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// claimLogouts leases the due notices in one statement on the pool, like claimMail: FOR
// UPDATE SKIP LOCKED gives parallel claims in any process disjoint rows without waiting, and a
// row leased meanwhile is checked again when locked and dropped.
const claimLogouts = `
	UPDATE oidc_logout_notices SET lease_until = $1, attempts = attempts + 1
	WHERE id IN (
		SELECT id FROM oidc_logout_notices
		WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $2
			AND (lease_until IS NULL OR lease_until <= $2)
		ORDER BY created_at, id
		LIMIT $3
		FOR UPDATE SKIP LOCKED)
	RETURNING ` + logoutColumns

// ClaimLogouts leases up to limit due notices until now+lease and returns them oldest first,
// with Attempts counting this one and LeasedUntil the lease's end as stored.
func (s *Store) ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) (_ []*hmisauth.LogoutNotice, err error) {
	defer wrap(&err, "claim logouts")
	if lease <= 0 {
		return nil, errors.New("the lease must be positive")
	}
	if limit <= 0 {
		return nil, nil
	}
	var ns []*hmisauth.LogoutNotice
	err = s.exec(ctx, func(w dbtx) (err error) {
		ns, err = scanLogouts(w.QueryContext(ctx, claimLogouts, timeArg(now.Add(lease)), timeArg(now), limit))
		if err == nil && len(ns) == 0 {
			return errUnchanged
		}
		return err
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return nil, err
	}
	// RETURNING gives rows in no particular order.
	slices.SortFunc(ns, func(a, b *hmisauth.LogoutNotice) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return ns, nil
}

// A delivery's outcome is final, and only the worker holding the notice records it:
// LogoutSent, LogoutFailed and AbandonLogout change the notice only WHERE the claim that
// returned n is still its lease (id, attempts and lease_until as claimed), and end it. Each
// claim counts an attempt, so the three name one claim; a new claim is made only once the
// lease has run out; and every report ends the lease, so a settled notice (never claimed
// again) stays as it is. A worker whose lease ran out while it waited therefore cannot undo or
// repeat the result of the worker that claimed the notice after it: its report changes
// nothing, appends no event and is ECONFLICT. The notice may still go out twice (the stale
// worker's delivery and the new one's), which a logout token allows.

// reportLogout runs one lease-guarded report on n; the query's parameters $1, $2 and $3,
// before args, are n's id, attempts and lease.
func (s *Store) reportLogout(ctx context.Context, n *hmisauth.LogoutNotice, query string, args ...any) error {
	if n == nil {
		return errors.New("no logout notice")
	}
	args = append([]any{n.ID, n.Attempts, timeArg(n.LeasedUntil)}, args...)
	_, err := s.once(ctx, logoutExists(ctx, n.ID), query, args...)
	return err
}

// LogoutSent records delivery and ends the lease.
func (s *Store) LogoutSent(ctx context.Context, n *hmisauth.LogoutNotice, at time.Time) (err error) {
	defer wrap(&err, "logout sent")
	return s.reportLogout(ctx, n, `
		UPDATE oidc_logout_notices SET sent_at = $4, lease_until = NULL
		WHERE id = $1 AND attempts = $2 AND lease_until = $3`, timeArg(at))
}

// LogoutFailed records a failed attempt and when to try again, and ends the lease so the
// retry is due at next.
func (s *Store) LogoutFailed(ctx context.Context, n *hmisauth.LogoutNotice, next time.Time, reason string) (err error) {
	defer wrap(&err, "logout failed")
	return s.reportLogout(ctx, n, `
		UPDATE oidc_logout_notices SET last_error = $4, next_attempt_at = $5, lease_until = NULL
		WHERE id = $1 AND attempts = $2 AND lease_until = $3`, reason, timeArg(next))
}

// AbandonLogout gives up on the notice. An empty reason keeps the last error.
func (s *Store) AbandonLogout(ctx context.Context, n *hmisauth.LogoutNotice, at time.Time, reason string) (err error) {
	defer wrap(&err, "abandon logout")
	return s.reportLogout(ctx, n, `
		UPDATE oidc_logout_notices SET abandoned_at = $4,
			last_error = CASE WHEN $5::text = '' THEN last_error ELSE $5::text END, lease_until = NULL
		WHERE id = $1 AND attempts = $2 AND lease_until = $3`, timeArg(at), reason)
}

// LogoutNotices lists up to limit notices, newest first, whatever their state.
func (s *Store) LogoutNotices(ctx context.Context, limit int) (_ []*hmisauth.LogoutNotice, err error) {
	defer wrap(&err, "logout notices")
	if limit <= 0 {
		return nil, nil
	}
	return scanLogouts(s.db.QueryContext(ctx,
		`SELECT `+logoutColumns+` FROM oidc_logout_notices ORDER BY created_at DESC, id DESC LIMIT $1`, limit))
}

// DeleteExpiredOIDC removes authorization requests expired before before, access and refresh
// tokens expired at now, and logout notices sent or abandoned before before. Each statement
// removes only what no one can use any more, so they need no transaction together; the events
// ctx carries are appended only when something was removed.
func (s *Store) DeleteExpiredOIDC(ctx context.Context, now, before time.Time) (err error) {
	defer wrap(&err, "delete expired oidc")
	err = s.exec(ctx, func(w dbtx) error {
		var total int64
		for _, d := range []struct {
			query string
			at    time.Time
		}{
			{`DELETE FROM oidc_auth_requests WHERE expires_at < $1`, before},
			{`DELETE FROM oidc_access_tokens WHERE expires_at <= $1`, now},
			// A refresh token expires when its session does, and the session's end takes
			// it; this finds only those whose session the sweep has not reached yet.
			{`DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1`, now},
			{`DELETE FROM oidc_logout_notices WHERE sent_at < $1 OR abandoned_at < $1`, before},
		} {
			res, err := w.ExecContext(ctx, d.query, timeArg(d.at))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		if total == 0 {
			return errUnchanged
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}
