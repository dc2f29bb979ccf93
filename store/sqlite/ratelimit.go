package sqlite

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
	INSERT INTO rate_limits (key, window_start, window_end, count) VALUES (?, ?, ?, 1)
	ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1
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
	at := now.UnixMicro()
	start := at - at%w
	if at%w < 0 {
		start -= w // floor, for times before 1970
	}
	var count int
	err = s.exec(ctx, func(db dbtx) error {
		if err := db.QueryRowContext(ctx, hitRateLimit, key, start, start+w).Scan(&count); err != nil {
			return err
		}
		if count == 1 {
			_, err := db.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_end <= ?`, at)
			return err
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return count <= limit, nil
}

// openAddressWindow creates an address's window (empty) or locks it as it is, and returns its
// counts.
const openAddressWindow = `
	INSERT INTO address_attempts (key, window_start, window_end, attempts, subjects) VALUES (?, ?, ?, 0, 0)
	ON CONFLICT (key, window_start) DO UPDATE SET attempts = attempts
	RETURNING attempts, subjects`

// countAddressSubject counts one more attempt of a subject and returns its count: 1 for a
// subject new to the window.
const countAddressSubject = `
	INSERT INTO address_attempt_subjects (key, window_start, subject, attempts) VALUES (?, ?, ?, 1)
	ON CONFLICT (key, window_start, subject) DO UPDATE SET attempts = attempts + 1
	RETURNING attempts`

// ReserveAddressAttempt counts the attempt unless its window's limits are reached; see
// hmisauth.Store. It is one write transaction, which SQLite runs one at a time.
func (s *Store) ReserveAddressAttempt(ctx context.Context, a hmisauth.AddressAttempt) (res hmisauth.AddressAttempts, err error) {
	defer wrap(&err, "reserve address attempt")
	start, end, err := addressWindow(a)
	if err != nil {
		return res, err
	}
	err = s.writeEvents(ctx, nil, func(tx *sql.Tx) error {
		res = hmisauth.AddressAttempts{}
		if err := tx.QueryRowContext(ctx, openAddressWindow, a.Key, start, end).Scan(&res.Attempts, &res.Subjects); err != nil {
			return err
		}
		if res.Attempts == 0 && res.Subjects == 0 {
			// The window is new (or every attempt in it was given back): forget the ended ones.
			if _, err := tx.ExecContext(ctx, `DELETE FROM address_attempts WHERE window_end <= ?`, a.At.UnixMicro()); err != nil {
				return err
			}
		}
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
			UPDATE address_attempts SET attempts = attempts + 1, subjects = subjects + ?
			WHERE key = ? AND window_start = ? RETURNING attempts, subjects`, added, a.Key, start).
			Scan(&res.Attempts, &res.Subjects)
	})
	if err != nil {
		return hmisauth.AddressAttempts{}, err
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
	return s.writeEvents(ctx, nil, func(tx *sql.Tx) error {
		gone := 0
		if a.Subject != "" {
			var left int
			err := tx.QueryRowContext(ctx, `
				UPDATE address_attempt_subjects SET attempts = attempts - 1
				WHERE key = ? AND window_start = ? AND subject = ? AND attempts > 0 RETURNING attempts`,
				a.Key, start, a.Subject).Scan(&left)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // none of the subject's attempts is counted in this window
			} else if err != nil {
				return err
			}
			if left == 0 {
				if _, err := tx.ExecContext(ctx, `
					DELETE FROM address_attempt_subjects WHERE key = ? AND window_start = ? AND subject = ?`,
					a.Key, start, a.Subject); err != nil {
					return err
				}
				gone = 1
			}
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE address_attempts SET attempts = attempts - 1, subjects = subjects - ?
			WHERE key = ? AND window_start = ? AND attempts > 0`, gone, a.Key, start)
		return err
	})
}

// addressWindow is the start and end, in microseconds, of a's window.
func addressWindow(a hmisauth.AddressAttempt) (start, end int64, err error) {
	w := a.Window.Microseconds()
	if w <= 0 {
		return 0, 0, errors.New("the window must be at least a microsecond")
	}
	end = hmisauth.WindowEnd(a.At, a.Window).UnixMicro()
	return end - w, end, nil
}

// reached reports whether count has reached limit; a limit of 0 or less is none.
func reached(count, limit int) bool {
	return limit > 0 && count >= limit
}
