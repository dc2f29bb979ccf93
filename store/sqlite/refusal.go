package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// noteRefusal opens the refusal's window (count 0: the first refusal, which is logged on its
// own) or counts one more in it, and returns the window and the new count: 0 only for the
// one call that opened it.
const noteRefusal = `
	INSERT INTO refusals (site, kind, key, window_start, window_end, subject)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6)
	ON CONFLICT (site, kind, key, window_start) DO UPDATE SET
		count = count + 1,
		first_at = coalesce(first_at, ?7),
		last_at = max(coalesce(last_at, ?7), ?7)
	RETURNING id, count`

// keepRefusalValue remembers a distinct value of a window, up to the cap; seq keeps the order
// they were first seen.
const keepRefusalValue = `
	INSERT INTO refusal_values (refusal_id, seq, value)
	SELECT ?1, count(*), ?2 FROM refusal_values WHERE refusal_id = ?1
	HAVING count(*) < ?3
	ON CONFLICT DO NOTHING`

// NoteRefusal counts one refused request in its window; see hmisauth.Store.
func (s *Store) NoteRefusal(ctx context.Context, r hmisauth.Refusal, window time.Duration) (first bool, err error) {
	defer wrap(&err, "note refusal")
	w := window.Microseconds()
	if w <= 0 {
		return false, errors.New("the window must be at least a microsecond")
	}
	at := r.At.UnixMicro()
	start := at - at%w
	if at%w < 0 {
		start -= w
	}
	err = s.writeEvents(ctx, nil, func(tx *sql.Tx) error {
		var id int64
		var count int
		if err := tx.QueryRowContext(ctx, noteRefusal, r.Site, r.Kind, r.Key, start, start+w, r.Subject, at).
			Scan(&id, &count); err != nil {
			return err
		}
		if count == 0 {
			first = true
			return s.appendEvents(ctx, tx, hmisauth.EventsOf(ctx))
		}
		_, err := tx.ExecContext(ctx, keepRefusalValue, id, r.Value, hmisauth.RefusalValuesKept)
		return err
	})
	if err != nil {
		if first {
			sqlstore.ForgetEvents(hmisauth.EventsOf(ctx))
		}
		return false, err
	}
	return first, nil
}

// ClosedRefusals lists up to limit windows that ended at or before now, oldest first.
func (s *Store) ClosedRefusals(ctx context.Context, now time.Time, limit int) (_ []*hmisauth.RefusalCount, err error) {
	defer wrap(&err, "closed refusals")
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, site, kind, key, subject, window_start, window_end, count, first_at, last_at
		FROM refusals WHERE window_end <= ? ORDER BY window_end, id LIMIT ?`, micros(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.RefusalCount
	for rows.Next() {
		c := new(hmisauth.RefusalCount)
		if err := rows.Scan(&c.ID, &c.Site, &c.Kind, &c.Key, &c.Subject, timeCol{&c.Start}, timeCol{&c.End},
			&c.Count, timeCol{&c.FirstAt}, timeCol{&c.LastAt}); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, c := range out {
		if c.Values, err = s.refusalValues(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) refusalValues(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT value FROM refusal_values WHERE refusal_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// EndRefusals removes the window and appends its summary, once.
func (s *Store) EndRefusals(ctx context.Context, id int64) (ended bool, err error) {
	defer wrap(&err, "end refusals")
	err = s.writeEvents(ctx, nil, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM refusals WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		ended = true
		return s.appendEvents(ctx, tx, hmisauth.EventsOf(ctx))
	})
	if err != nil && ended {
		sqlstore.ForgetEvents(hmisauth.EventsOf(ctx))
	}
	return ended && err == nil, err
}
