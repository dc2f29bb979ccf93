package postgres

import (
	"context"
	"errors"
	"time"
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
