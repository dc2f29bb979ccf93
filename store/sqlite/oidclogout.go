package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hmisauth/hmisauth"
)

func noLogoutNotice() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such logout notice."}
}

// logoutExists is how a report that changed nothing tells "no such notice" from "settled
// already".
func logoutExists(ctx context.Context, id int64) func(q queryer) error {
	return func(q queryer) error {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM oidc_logout_notices WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return noLogoutNotice()
		}
		return err
	}
}

const logoutColumns = `id, site, client_id, uri, subject, sid, created_at, attempts, next_attempt_at,
	last_error, sent_at, abandoned_at`

func scanLogouts(rows *sql.Rows, err error) ([]*hmisauth.LogoutNotice, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.LogoutNotice
	for rows.Next() {
		n := new(hmisauth.LogoutNotice)
		if err := rows.Scan(&n.ID, &n.Site, &n.ClientID, &n.URI, &n.Subject, &n.SID, timeCol{&n.CreatedAt},
			&n.Attempts, timeCol{&n.NextAttemptAt}, &n.LastError, timeCol{&n.SentAt}, timeCol{&n.AbandonedAt}); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// claimLogouts leases the due notices in one statement, like claimMail: the choice and the
// lease are made under the write lock together, so a notice another worker holds is never
// chosen, in this process or another one on the file.
const claimLogouts = `
	UPDATE oidc_logout_notices SET lease_until = ?1, attempts = attempts + 1
	WHERE id IN (
		SELECT id FROM oidc_logout_notices
		WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= ?2
			AND (lease_until IS NULL OR lease_until <= ?2)
		ORDER BY created_at, id
		LIMIT ?3)
	RETURNING ` + logoutColumns

// ClaimLogouts leases up to limit due notices until now+lease and returns them oldest first,
// with Attempts counting this one.
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
		ns, err = scanLogouts(w.QueryContext(ctx, claimLogouts, micros(now.Add(lease)), micros(now), limit))
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

// A delivery's outcome is final: LogoutSent, LogoutFailed and AbandonLogout change only a
// notice not settled yet (a sent notice stays sent, an abandoned one is only ever marked sent
// after all, if a delivery did get through). So a worker whose lease ran out while it waited
// cannot undo the result of the worker that claimed the notice after it; a report that changes
// nothing appends no event. They do not tell the two workers' attempts apart otherwise (the
// methods are given no lease): a stale failure report on a notice another worker is still
// delivering ends that lease early, and the notice may go out twice, which a logout token
// allows.

// LogoutSent records delivery and ends the lease, once.
func (s *Store) LogoutSent(ctx context.Context, id int64, at time.Time) (err error) {
	defer wrap(&err, "logout sent")
	_, err = s.once(ctx, logoutExists(ctx, id),
		`UPDATE oidc_logout_notices SET sent_at = ?, lease_until = NULL WHERE id = ? AND sent_at IS NULL`,
		micros(at), id)
	return err
}

// LogoutFailed records a failed attempt of an unsettled notice and when to try again, and ends
// the lease so the retry is due at next.
func (s *Store) LogoutFailed(ctx context.Context, id int64, next time.Time, reason string) (err error) {
	defer wrap(&err, "logout failed")
	_, err = s.once(ctx, logoutExists(ctx, id), `
		UPDATE oidc_logout_notices SET last_error = ?, next_attempt_at = ?, lease_until = NULL
		WHERE id = ? AND sent_at IS NULL AND abandoned_at IS NULL`,
		reason, micros(next), id)
	return err
}

// AbandonLogout gives up on an unsettled notice. An empty reason keeps the last error.
func (s *Store) AbandonLogout(ctx context.Context, id int64, at time.Time, reason string) (err error) {
	defer wrap(&err, "abandon logout")
	_, err = s.once(ctx, logoutExists(ctx, id), `
		UPDATE oidc_logout_notices SET abandoned_at = ?1,
			last_error = CASE WHEN ?2 = '' THEN last_error ELSE ?2 END, lease_until = NULL
		WHERE id = ?3 AND sent_at IS NULL AND abandoned_at IS NULL`,
		micros(at), reason, id)
	return err
}

// LogoutNotices lists up to limit notices, newest first, whatever their state.
func (s *Store) LogoutNotices(ctx context.Context, limit int) (_ []*hmisauth.LogoutNotice, err error) {
	defer wrap(&err, "logout notices")
	if limit <= 0 {
		return nil, nil
	}
	return scanLogouts(s.r.QueryContext(ctx,
		`SELECT `+logoutColumns+` FROM oidc_logout_notices ORDER BY created_at DESC, id DESC LIMIT ?`, limit))
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
			{`DELETE FROM oidc_auth_requests WHERE expires_at < ?`, before},
			{`DELETE FROM oidc_access_tokens WHERE expires_at <= ?`, now},
			// A refresh token expires when its session does, and the session's end takes
			// it; this finds only those whose session the sweep has not reached yet.
			{`DELETE FROM oidc_refresh_tokens WHERE expires_at <= ?`, now},
			{`DELETE FROM oidc_logout_notices WHERE sent_at < ?1 OR abandoned_at < ?1`, before},
		} {
			res, err := w.ExecContext(ctx, d.query, micros(d.at))
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
