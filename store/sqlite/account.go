package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// SetPassword replaces the user's password in one transaction: the old hash joins the history
// (trimmed to the newest c.History), the flags are set as given, the lockout is cleared, the
// user's reset tokens die, the user's other sessions end (reason EndedPasswordChanged), the
// user's remembered devices are forgotten and c.Mail is queued. Doing it in one transaction
// means no moment exists in which the new password works but a session opened with the old
// one, a reset link sent for it, or a browser trusted under it, survives.
func (s *Store) SetPassword(ctx context.Context, c hmisauth.PasswordChange) (err error) {
	defer wrap(&err, "set password")
	return s.write(ctx, func(tx *sql.Tx) error { return setPassword(ctx, tx, c) })
}

// setPassword is SetPassword inside a transaction, shared with CompleteReset.
func setPassword(ctx context.Context, tx *sql.Tx, c hmisauth.PasswordChange) error {
	var old string
	err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, c.UserID).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.NoUser()
	}
	if err != nil {
		return err
	}
	if old != "" {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO password_history (user_id, hash, created_at) VALUES (?, ?, ?)`,
			c.UserID, old, micros(c.At)); err != nil {
			return err
		}
	}
	// History is ordered by insertion (id), not by clock: the newest entry is the password
	// replaced last even if the clock stepped back.
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM password_history WHERE user_id = ?1 AND id NOT IN (
			SELECT id FROM password_history WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)`,
		c.UserID, max(c.History, 0)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE users SET password_hash = ?, password_changed_at = ?, password_temporary = ?,
			temporary_used_at = NULL, must_change_password = ?
		WHERE id = ?`,
		c.Hash, micros(c.At), c.Temporary, c.MustChange, c.UserID); err != nil {
		return err
	}
	if err := clearLockout(ctx, tx, c.UserID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM reset_tokens WHERE user_id = ?`, c.UserID); err != nil {
		return err
	}
	if _, err := endSessions(ctx, tx, hmisauth.EndedPasswordChanged, c.At, `user_id = ? AND id <> ?`,
		c.UserID, c.KeepSessionID); err != nil {
		return err
	}
	if err := forgetBrowsers(ctx, tx, c.UserID); err != nil {
		return err
	}
	return enqueue(ctx, tx, c.Mail)
}

// PasswordHistory returns up to limit of the user's previous password hashes, newest first;
// none for a limit of 0 or less.
func (s *Store) PasswordHistory(ctx context.Context, userID int64, limit int) (_ []string, err error) {
	defer wrap(&err, "password history")
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT hash FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return hashes, rows.Err()
}

// RehashPassword swaps the stored hash for newHash only if it is still oldHash. When a
// password change got there first the swap is silently skipped: the change wins.
func (s *Store) RehashPassword(ctx context.Context, userID int64, oldHash, newHash string) (err error) {
	defer wrap(&err, "rehash password")
	return s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx,
			`UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, newHash, userID, oldHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return userExists(ctx, s.reader(w), userID)
	})
}

// ExpirePassword makes the user choose a new password at the next sign-in.
func (s *Store) ExpirePassword(ctx context.Context, userID int64) (err error) {
	defer wrap(&err, "expire password")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.UserChanged(w.ExecContext(ctx, `UPDATE users SET must_change_password = 1 WHERE id = ?`, userID))
	})
}

// AcceptTerms records that the user accepted the terms version.
func (s *Store) AcceptTerms(ctx context.Context, userID int64, version int, at time.Time) (err error) {
	defer wrap(&err, "accept terms")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.UserChanged(w.ExecContext(ctx,
			`UPDATE users SET terms_version = ?, terms_accepted_at = ? WHERE id = ?`, version, micros(at), userID))
	})
}

// SetDisabled disables or enables the account. Disabling ends all its sessions (reason
// EndedByHelpdesk) and forgets its remembered devices in the same transaction, and disabling
// twice keeps the first DisabledAt (the "since" of the problem).
func (s *Store) SetDisabled(ctx context.Context, userID int64, disabled bool, at time.Time) (err error) {
	defer wrap(&err, "set disabled")
	if !disabled {
		// The departure goes with the disable it explained; a later disable records its own.
		return s.write(ctx, func(tx *sql.Tx) error {
			err := sqlstore.UserChanged(tx.ExecContext(ctx,
				`UPDATE users SET disabled = 0, disabled_at = NULL WHERE id = ?`, userID))
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM departures WHERE user_id = ?`, userID)
			return err
		})
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		return disable(ctx, tx, userID, at)
	})
}

// disable is SetDisabled(true) in tx, for Disable to record the departure beside it.
func disable(ctx context.Context, tx *sql.Tx, userID int64, at time.Time) error {
	err := sqlstore.UserChanged(tx.ExecContext(ctx, `
		UPDATE users SET disabled = 1, disabled_at = CASE WHEN disabled = 1 THEN disabled_at ELSE ? END
		WHERE id = ?`, micros(at), userID))
	if err != nil {
		return err
	}
	if _, err := endSessions(ctx, tx, hmisauth.EndedByHelpdesk, at, `user_id = ?`, userID); err != nil {
		return err
	}
	return forgetBrowsers(ctx, tx, userID)
}

// SetAgreement records the user agreement's signatures and expiry.
func (s *Store) SetAgreement(ctx context.Context, userID int64, signed, supervisor, director, expires hmisauth.Date) (err error) {
	defer wrap(&err, "set agreement")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.UserChanged(w.ExecContext(ctx, `
			UPDATE users SET agreement_signed_on = ?, agreement_supervisor_signed_on = ?,
				agreement_director_signed_on = ?, agreement_expires_on = ?
			WHERE id = ?`, dateArg(signed), dateArg(supervisor), dateArg(director), dateArg(expires), userID))
	})
}
