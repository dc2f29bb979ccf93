package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// reserveAttempt counts one attempt unless the key is locked or out of attempts, and locks it
// when the count reaches the threshold (?3). It is one statement, so no two callers can both
// see count 2 and both go on to check a password: SQLite runs it under the write lock, and a
// refused upsert (its WHERE false) returns no row.
const reserveAttempt = `
	INSERT INTO lockouts (site, username_key, failed_attempts, last_failed_at, locked_at)
	VALUES (?1, ?2, 1, ?4, CASE WHEN ?3 <= 1 THEN ?4 END)
	ON CONFLICT (site, username_key) DO UPDATE SET
		failed_attempts = failed_attempts + 1,
		last_failed_at = excluded.last_failed_at,
		locked_at = CASE WHEN failed_attempts + 1 >= ?3 THEN excluded.last_failed_at END
	WHERE locked_at IS NULL AND failed_attempts < ?3
	RETURNING failed_attempts, locked_at`

// lockExhausted locks a key that has used up its attempts without being locked: the threshold
// was lowered since they were counted.
const lockExhausted = `
	UPDATE lockouts SET locked_at = ?4
	WHERE site = ?1 AND username_key = ?2 AND locked_at IS NULL AND failed_attempts >= ?3
	RETURNING failed_attempts, locked_at`

// ReserveLoginAttempt counts one sign-in attempt for (site, username key) before its password
// is checked; see hmisauth.Store. A threshold of 0 or less never locks.
func (s *Store) ReserveLoginAttempt(ctx context.Context, site, usernameKey string, threshold int, now time.Time) (a hmisauth.Attempt, err error) {
	defer wrap(&err, "reserve login attempt")
	if threshold <= 0 {
		threshold = math.MaxInt32
	}
	err = s.exec(ctx, func(w dbtx) (err error) {
		a, err = s.reserve(ctx, w, site, usernameKey, threshold, now)
		return err
	})
	if err != nil {
		return hmisauth.Attempt{}, err
	}
	return a, nil
}

// reserve is ReserveLoginAttempt on w. A refusal takes a second look; if a success or an
// unlock cleared the key in between, the attempt is counted afresh. (In a transaction nothing
// changes in between, and the first round always decides.)
func (s *Store) reserve(ctx context.Context, w dbtx, site, usernameKey string, threshold int, now time.Time) (hmisauth.Attempt, error) {
	for range 3 {
		var a hmisauth.Attempt
		err := w.QueryRowContext(ctx, reserveAttempt, site, usernameKey, threshold, micros(now)).
			Scan(&a.Count, timeCol{&a.LockedAt})
		if err == nil {
			a.Allowed = true
			return a, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return a, err
		}
		err = w.QueryRowContext(ctx, lockExhausted, site, usernameKey, threshold, micros(now)).
			Scan(&a.Count, timeCol{&a.LockedAt})
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return a, err
		}
		err = s.reader(w).QueryRowContext(ctx, `
			SELECT failed_attempts, locked_at FROM lockouts
			WHERE site = ? AND username_key = ? AND locked_at IS NOT NULL`, site, usernameKey).
			Scan(&a.Count, timeCol{&a.LockedAt})
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return a, err
		}
	}
	return hmisauth.Attempt{}, errors.New("lockout state kept changing; try again")
}

// AutoUnlock clears the lock and count of (site, username key) if it locked at or before
// lockedBefore.
func (s *Store) AutoUnlock(ctx context.Context, site, usernameKey string, lockedBefore time.Time) (unlocked bool, err error) {
	defer wrap(&err, "auto unlock")
	err = s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `
			DELETE FROM lockouts
			WHERE site = ? AND username_key = ? AND locked_at IS NOT NULL AND locked_at <= ?`,
			site, usernameKey, micros(lockedBefore))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		unlocked = n > 0
		return err
	})
	return unlocked && err == nil, err
}

// ReleaseLoginAttempt gives back one attempt a ReserveLoginAttempt counted (a.Allowed) whose
// password was right: the count falls by one, and the lock goes only if this attempt set it (the
// key is still locked at a.LockedAt), so a lock a later guess set stays. One statement. An
// attempt that was refused counted nothing, and gives nothing back.
func (s *Store) ReleaseLoginAttempt(ctx context.Context, site, usernameKey string, a hmisauth.Attempt) (err error) {
	defer wrap(&err, "release login attempt")
	if !a.Allowed {
		return nil
	}
	return s.exec(ctx, func(w dbtx) error {
		_, err := w.ExecContext(ctx, `
			UPDATE lockouts SET failed_attempts = max(failed_attempts - 1, 0),
				locked_at = CASE WHEN locked_at = ?3 THEN NULL ELSE locked_at END
			WHERE site = ?1 AND username_key = ?2`,
			site, usernameKey, micros(a.LockedAt))
		return err
	})
}

// clearLockout deletes the lockout row of the user's username key. Deleting rather than
// zeroing keeps the table to the keys under attack.
func clearLockout(ctx context.Context, tx *sql.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `
		DELETE FROM lockouts WHERE (site, username_key) = (SELECT site, username_key FROM users WHERE id = ?)`,
		userID)
	return err
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader is where a write's follow-up read goes: the reader pool when w is the writer itself
// (reads there need not queue behind writes), else w's transaction, whose view it must share.
func (s *Store) reader(w dbtx) queryer {
	if tx, ok := w.(*sql.Tx); ok {
		return tx
	}
	return s.r
}

// userExists is how a statement that matched nothing tells "no such user" from "nothing to do".
func userExists(ctx context.Context, q queryer, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.NoUser()
	}
	return err
}

// LoginSucceeded clears the failure count and lock of the user's username key and records the
// sign-in time.
func (s *Store) LoginSucceeded(ctx context.Context, userID int64, at time.Time) (err error) {
	defer wrap(&err, "login succeeded")
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, micros(at), userID)
		if err := sqlstore.Changed(res, err, sqlstore.NoUser); err != nil {
			return err
		}
		return clearLockout(ctx, tx, userID)
	})
}

// Unlock is an administrator's unlock: clears count and lock.
func (s *Store) Unlock(ctx context.Context, userID int64) (err error) {
	defer wrap(&err, "unlock")
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		return clearLockout(ctx, tx, userID)
	})
}

// UseTemporaryPassword marks the user's temporary password used, once. It reports false if it
// was already used or the password is no longer temporary (replaced in between).
func (s *Store) UseTemporaryPassword(ctx context.Context, userID int64, at time.Time) (used bool, err error) {
	defer wrap(&err, "use temporary password")
	err = s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `
			UPDATE users SET temporary_used_at = ?
			WHERE id = ? AND password_temporary = 1 AND temporary_used_at IS NULL`, micros(at), userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			used = n == 1
			return err
		}
		return userExists(ctx, s.reader(w), userID)
	})
	return used && err == nil, err
}
