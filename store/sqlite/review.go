package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// SetSecurityOfficer marks or unmarks the user as their agency's security officer. The role
// is checked in the UPDATE itself, so a role changed meanwhile cannot leave a user who is not
// an agency admin marked (the column's CHECK is the last word).
func (s *Store) SetSecurityOfficer(ctx context.Context, userID int64, officer bool) (err error) {
	defer wrap(&err, "set security officer")
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET security_officer = ?2
			WHERE id = ?1 AND (?2 = 0 OR (role = 'agency_admin' AND agency_id IS NOT NULL))`, userID, officer)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.NoUser()
		}
		if err != nil {
			return err
		}
		return sqlstore.NotOfficerMaterial()
	})
}

// RecordReview stores an access-log review with the events ctx carries.
func (s *Store) RecordReview(ctx context.Context, r *hmisauth.LogReview) (err error) {
	defer wrap(&err, "record review")
	sqlstore.PrepareReview(r)
	return s.write(ctx, func(tx *sql.Tx) error {
		if r.AgencyID != 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM agencies WHERE id = ? AND site = ?`, r.AgencyID, r.Site).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return sqlstore.NoAgency()
			}
			if err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO log_reviews (site, agency_id, reviewer, from_date, to_date, findings, follow_up, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.Site, sqlstore.IDArg(r.AgencyID), r.Reviewer, dateArg(r.From), dateArg(r.To), r.Findings, r.FollowUp,
			micros(r.At)).Scan(&r.ID)
	})
}

const reviewColumns = `SELECT id, site, coalesce(agency_id, 0), reviewer, from_date, to_date, findings, follow_up, at
	FROM log_reviews`

// LogReviews lists the site's own reviews (agencyID 0) or an agency's, newest first.
func (s *Store) LogReviews(ctx context.Context, site string, agencyID int64) (_ []*hmisauth.LogReview, err error) {
	defer wrap(&err, "log reviews")
	if agencyID == 0 {
		return scanReviews(s.r.QueryContext(ctx, reviewColumns+`
			WHERE site = ? AND agency_id IS NULL ORDER BY at DESC, id DESC`, site))
	}
	return scanReviews(s.r.QueryContext(ctx, reviewColumns+`
		WHERE site = ? AND agency_id = ? ORDER BY at DESC, id DESC`, site, agencyID))
}

// AllLogReviews lists every review of the site, its own and its agencies', newest first.
func (s *Store) AllLogReviews(ctx context.Context, site string) (_ []*hmisauth.LogReview, err error) {
	defer wrap(&err, "all log reviews")
	return scanReviews(s.r.QueryContext(ctx, reviewColumns+` WHERE site = ? ORDER BY at DESC, id DESC`, site))
}

func scanReviews(rows *sql.Rows, err error) ([]*hmisauth.LogReview, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.LogReview
	for rows.Next() {
		r := new(hmisauth.LogReview)
		if err := rows.Scan(&r.ID, &r.Site, &r.AgencyID, &r.Reviewer, dateCol{&r.From}, dateCol{&r.To},
			&r.Findings, &r.FollowUp, timeCol{&r.At}); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
