package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
)

// hitRateLimit counts one event in its window and returns the new count, in one statement:
// parallel hits, from any process, each see a distinct count.
const hitRateLimit = `
	INSERT INTO rate_limits (key, window_start, window_end, count) VALUES ($1, $2, $3, 1)
	ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
	RETURNING count`

// HitRateLimit counts one event for key in the fixed window of the given length that contains
// now, and reports whether the count is still within limit. The first hit of a window also
// deletes every key's ended windows, so the table holds only the windows still counting.
func (s *Store) HitRateLimit(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (_ bool, err error) {
	defer wrap(&err, "hit rate limit")
	w := window.Microseconds()
	if w <= 0 {
		return false, errors.New("the window must be at least a microsecond")
	}
	start, end := windowOf(now, w)
	var count int
	err = s.exec(ctx, func(db dbtx) error {
		if err := db.QueryRowContext(ctx, hitRateLimit, key, start, end).Scan(&count); err != nil {
			return err
		}
		if count == 1 {
			_, err := db.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_end <= $1`, timeArg(now))
			return err
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return count <= limit, nil
}

// windowOf is the fixed window of w microseconds that holds at, counted from the Unix epoch
// as SQLite's store counts them (so both backends agree on where windows start), as the
// TIMESTAMPTZ arguments of its start and end.
func windowOf(at time.Time, w int64) (start, end any) {
	t := at.UnixMicro()
	s := t - t%w
	if t%w < 0 {
		s -= w // floor, for times before 1970
	}
	return time.UnixMicro(s).UTC(), time.UnixMicro(s + w).UTC()
}

// openAddressWindow creates an address's window (empty) or takes it as it is, and returns its
// counts. Either way it holds the window's row lock until the transaction ends, so the
// reservations and releases of one address run one at a time, in every process, without the
// write lock that would queue every other address's sign-in behind them.
const openAddressWindow = `
	INSERT INTO address_attempts (key, window_start, window_end, attempts, subjects) VALUES ($1, $2, $3, 0, 0)
	ON CONFLICT (key, window_start) DO UPDATE SET attempts = address_attempts.attempts
	RETURNING attempts, subjects`

// countAddressSubject counts one more attempt of a subject and returns its count: 1 for a
// subject new to the window.
const countAddressSubject = `
	INSERT INTO address_attempt_subjects (key, window_start, subject, attempts) VALUES ($1, $2, $3, 1)
	ON CONFLICT (key, window_start, subject) DO UPDATE SET attempts = address_attempt_subjects.attempts + 1
	RETURNING attempts`

// ReserveAddressAttempt counts the attempt unless its window's limits are reached; see
// hmisauth.Store.
func (s *Store) ReserveAddressAttempt(ctx context.Context, a hmisauth.AddressAttempt) (res hmisauth.AddressAttempts, err error) {
	defer wrap(&err, "reserve address attempt")
	start, end, err := addressWindow(a)
	if err != nil {
		return res, err
	}
	fresh := false
	err = s.windowTx(ctx, func(tx *sql.Tx) error {
		res = hmisauth.AddressAttempts{}
		if err := tx.QueryRowContext(ctx, openAddressWindow, a.Key, start, end).Scan(&res.Attempts, &res.Subjects); err != nil {
			return err
		}
		fresh = res.Attempts == 0 && res.Subjects == 0
		if reached(res.Attempts, a.MaxAttempts) || reached(res.Subjects, a.MaxSubjects) {
			return nil
		}
		added := 0
		if a.Subject != "" {
			var n int
			if err := tx.QueryRowContext(ctx, countAddressSubject, a.Key, start, a.Subject).Scan(&n); err != nil {
				return err
			}
			if n == 1 {
				added = 1
			}
		}
		res.Allowed = true
		return tx.QueryRowContext(ctx, `
			UPDATE address_attempts SET attempts = attempts + 1, subjects = subjects + $3
			WHERE key = $1 AND window_start = $2 RETURNING attempts, subjects`, a.Key, start, added).
			Scan(&res.Attempts, &res.Subjects)
	})
	if err != nil {
		return hmisauth.AddressAttempts{}, err
	}
	if fresh {
		// The window is new (or every attempt in it was given back): forget the ended ones.
		// Apart from the reservation, so that it never waits on another address's row while
		// holding its own.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM address_attempts WHERE window_end <= $1`, timeArg(a.At)); err != nil {
			return hmisauth.AddressAttempts{}, err
		}
	}
	return res, nil
}

// ReleaseAddressAttempt gives back one attempt ReserveAddressAttempt allowed; see
// hmisauth.Store.
func (s *Store) ReleaseAddressAttempt(ctx context.Context, a hmisauth.AddressAttempt) (err error) {
	defer wrap(&err, "release address attempt")
	start, _, err := addressWindow(a)
	if err != nil {
		return err
	}
	return s.windowTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM address_attempts WHERE key = $1 AND window_start = $2 FOR UPDATE`,
			a.Key, start).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the window ended and was forgotten
		} else if err != nil {
			return err
		}
		gone := 0
		if a.Subject != "" {
			var left int
			err := tx.QueryRowContext(ctx, `
				UPDATE address_attempt_subjects SET attempts = attempts - 1
				WHERE key = $1 AND window_start = $2 AND subject = $3 AND attempts > 0 RETURNING attempts`,
				a.Key, start, a.Subject).Scan(&left)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // none of the subject's attempts is counted in this window
			} else if err != nil {
				return err
			}
			if left == 0 {
				if _, err := tx.ExecContext(ctx, `
					DELETE FROM address_attempt_subjects WHERE key = $1 AND window_start = $2 AND subject = $3`,
					a.Key, start, a.Subject); err != nil {
					return err
				}
				gone = 1
			}
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE address_attempts SET attempts = attempts - 1, subjects = subjects - $3
			WHERE key = $1 AND window_start = $2 AND attempts > 0`, a.Key, start, gone)
		return err
	})
}

// windowTx runs fn in a transaction without the write lock (see openAddressWindow), again
// after a serialization failure or a deadlock.
func (s *Store) windowTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		return tx.Commit()
	})
}

// addressWindow is a's window as the TIMESTAMPTZ arguments of its start and end.
func addressWindow(a hmisauth.AddressAttempt) (start, end any, err error) {
	w := a.Window.Microseconds()
	if w <= 0 {
		return nil, nil, errors.New("the window must be at least a microsecond")
	}
	start, end = windowOf(a.At, w)
	return start, end, nil
}

// reached reports whether count has reached limit; a limit of 0 or less is none.
func reached(count, limit int) bool {
	return limit > 0 && count >= limit
}
