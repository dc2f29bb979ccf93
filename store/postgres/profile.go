package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// SetRecovery stores the user's security question and the hash of its answer.
func (s *Store) SetRecovery(ctx context.Context, userID int64, question, answerHash string) (err error) {
	defer wrap(&err, "set recovery")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.UserChanged(w.ExecContext(ctx,
			`UPDATE users SET recovery_question = $1, recovery_answer_hash = $2 WHERE id = $3`,
			question, answerHash, userID))
	})
}

// UpdateContact sets the user's e-mail and phone and queues m (when not nil) in one
// transaction: the notice to the old address exists exactly when the change does.
func (s *Store) UpdateContact(ctx context.Context, userID int64, email, phone string, m *hmisauth.Message) (err error) {
	defer wrap(&err, "update contact")
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := sqlstore.UserChanged(tx.ExecContext(ctx,
			`UPDATE users SET email = $1, phone = $2 WHERE id = $3`, email, phone, userID)); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}

// PasswordExpiryCandidates lists the site's enabled users with an e-mail address and a
// password of their own changed within [from, to) that they have not been warned about.
func (s *Store) PasswordExpiryCandidates(ctx context.Context, site string, from, to time.Time) (_ []*hmisauth.User, err error) {
	defer wrap(&err, "password expiry candidates")
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+`
		WHERE u.site = $1 AND u.email <> '' AND NOT u.password_temporary AND NOT u.disabled
			AND u.password_changed_at >= $2 AND u.password_changed_at < $3
			AND (u.expiry_warned_for IS NULL OR u.expiry_warned_for <> u.password_changed_at)
		ORDER BY u.id`, site, timeArg(from), timeArg(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []*hmisauth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// WarnPasswordExpiry records the warning for the password set at changedAt and queues m, in
// one transaction. The record is one conditional update: of parallel warners (several server
// processes) only the first changes the row, and only it queues the e-mail.
func (s *Store) WarnPasswordExpiry(ctx context.Context, userID int64, changedAt time.Time, m *hmisauth.Message) (warned bool, err error) {
	defer wrap(&err, "warn password expiry")
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET expiry_warned_for = $1
			WHERE id = $2 AND password_changed_at = $1
				AND (expiry_warned_for IS NULL OR expiry_warned_for <> $1)`,
			timeArg(changedAt), userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return userExists(ctx, tx, userID)
		}
		warned = true
		return enqueue(ctx, tx, m)
	})
	return warned && err == nil, err
}
