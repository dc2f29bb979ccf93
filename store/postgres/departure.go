package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hmisauth/hmisauth"
)

// Disable disables the account and records its departure in one transaction. A departure
// already recorded stays: the first report of a departure is the one a monitor times.
func (s *Store) Disable(ctx context.Context, d *hmisauth.Departure) (err error) {
	defer wrap(&err, "disable")
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := disable(ctx, tx, d.UserID, d.DisabledAt); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO departures (user_id, reason, reported_on, disabled_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id) DO NOTHING`, d.UserID, d.Reason, dateArg(d.ReportedOn), d.DisabledBy)
		return err
	})
}

const departureColumns = `u.id, u.username, u.agency_id, coalesce(d.reason, ''), d.reported_on, u.disabled_at,
	coalesce(d.disabled_by, '')`

// UserDeparture is the departure of a disabled account.
func (s *Store) UserDeparture(ctx context.Context, userID int64) (_ *hmisauth.Departure, err error) {
	defer wrap(&err, "user departure")
	d, err := scanDeparture(s.db.QueryRowContext(ctx, `SELECT `+departureColumns+`
		FROM users u JOIN departures d ON d.user_id = u.id WHERE u.id = $1 AND u.disabled`, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "No departure is recorded for this account.")
	}
	return d, err
}

// Departures lists the site's disabled accounts with their departures, oldest disable first.
func (s *Store) Departures(ctx context.Context, site string) (_ []*hmisauth.Departure, err error) {
	defer wrap(&err, "departures")
	rows, err := s.db.QueryContext(ctx, `SELECT `+departureColumns+`
		FROM users u LEFT JOIN departures d ON d.user_id = u.id
		WHERE u.site = $1 AND u.disabled ORDER BY u.disabled_at, u.id`, site)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*hmisauth.Departure
	for rows.Next() {
		d, err := scanDeparture(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, rows.Err()
}

func scanDeparture(row scanner) (*hmisauth.Departure, error) {
	d := new(hmisauth.Departure)
	var agency sql.NullInt64
	if err := row.Scan(&d.UserID, &d.Username, &agency, &d.Reason, dateCol{&d.ReportedOn},
		timeCol{&d.DisabledAt}, &d.DisabledBy); err != nil {
		return nil, err
	}
	d.AgencyID = agency.Int64
	return d, nil
}
