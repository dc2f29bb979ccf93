package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// RecordTraining adds a completed training, setting r.ID. The insert selects the user, so an
// unknown user inserts nothing and is ENOTFOUND.
func (s *Store) RecordTraining(ctx context.Context, r *hmisauth.TrainingRecord) (err error) {
	defer wrap(&err, "record training")
	if r.RecordedAt.IsZero() {
		r.RecordedAt = sqlstore.Now()
	}
	return s.exec(ctx, func(w dbtx) error {
		err := w.QueryRowContext(ctx, `
			INSERT INTO trainings (user_id, kind, completed_on, recorded_by, recorded_at)
			SELECT id, ?, ?, ?, ? FROM users WHERE id = ? RETURNING id`,
			r.Kind, string(r.CompletedOn), r.RecordedBy, micros(r.RecordedAt), r.UserID).Scan(&r.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.NoUser()
		}
		return err
	})
}

const trainingColumns = `t.id, t.user_id, t.kind, t.completed_on, t.recorded_by, t.recorded_at`

// Trainings lists the user's completed trainings, newest completion first.
func (s *Store) Trainings(ctx context.Context, userID int64) (_ []*hmisauth.TrainingRecord, err error) {
	defer wrap(&err, "trainings")
	return scanTrainings(s.r.QueryContext(ctx, `SELECT `+trainingColumns+` FROM trainings t
		WHERE t.user_id = ? ORDER BY t.completed_on DESC, t.recorded_at DESC, t.id DESC`, userID))
}

// SiteTrainings lists every completed training of the site's users.
func (s *Store) SiteTrainings(ctx context.Context, site string) (_ []*hmisauth.TrainingRecord, err error) {
	defer wrap(&err, "site trainings")
	return scanTrainings(s.r.QueryContext(ctx, `SELECT `+trainingColumns+` FROM trainings t
		JOIN users u ON u.id = t.user_id WHERE u.site = ?
		ORDER BY t.user_id, t.completed_on DESC, t.recorded_at DESC, t.id DESC`, site))
}

func scanTrainings(rows *sql.Rows, err error) ([]*hmisauth.TrainingRecord, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*hmisauth.TrainingRecord
	for rows.Next() {
		r := new(hmisauth.TrainingRecord)
		if err := rows.Scan(&r.ID, &r.UserID, &r.Kind, dateCol{&r.CompletedOn}, &r.RecordedBy, timeCol{&r.RecordedAt}); err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}
