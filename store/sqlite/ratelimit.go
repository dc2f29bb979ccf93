package sqlite

import (
	"context"
	"errors"
	"time"
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
