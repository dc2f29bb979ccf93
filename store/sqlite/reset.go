package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// StartReset stores a new reset token for a user of t.Site and queues its e-mail, in one
// transaction; the user's older tokens are deleted in it, so only the newest link works. It
// stamps t.CreatedAt if left zero, and sets m.ID.
func (s *Store) StartReset(ctx context.Context, t *hmisauth.ResetToken, m *hmisauth.Message) (err error) {
	defer wrap(&err, "start reset")
	if t.CreatedAt.IsZero() {
		t.CreatedAt = sqlstore.Now()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reset_tokens WHERE user_id = ?`, t.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO reset_tokens (user_id, site, token_hash, created_at, expires_at, used_at)
			SELECT id, site, ?, ?, ?, ? FROM users WHERE id = ? AND site = ?`,
			t.TokenHash, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.UsedAt), t.UserID, t.Site)
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That reset token is already in use.")
		}
		if err := sqlstore.Changed(res, err, sqlstore.NoUser); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}

// ResetToken finds a live token (unused, expiring after now) by its hash.
func (s *Store) ResetToken(ctx context.Context, hash []byte, now time.Time) (_ *hmisauth.ResetToken, err error) {
	defer wrap(&err, "reset token")
	t := new(hmisauth.ResetToken)
	err = s.r.QueryRowContext(ctx, `
		SELECT user_id, site, token_hash, created_at, expires_at, used_at FROM reset_tokens
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, hash, micros(now)).Scan(
		&t.UserID, &t.Site, &t.TokenHash, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoToken()
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CompleteReset uses the token and sets the password in one transaction. The token is taken
// by one conditional update (live at now, and c.UserID's): of parallel uses only the first to
// get the write lock changes a row; the rest find it used and change nothing.
func (s *Store) CompleteReset(ctx context.Context, hash []byte, now time.Time, c hmisauth.PasswordChange) (err error) {
	defer wrap(&err, "complete reset")
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE reset_tokens SET used_at = ?1
			WHERE token_hash = ?2 AND user_id = ?3 AND used_at IS NULL AND expires_at > ?1`,
			micros(now), hash, c.UserID)
		if err := sqlstore.Changed(res, err, sqlstore.NoToken); err != nil {
			return err
		}
		return setPassword(ctx, tx, c)
	})
}

// LastResetAt is when the user's newest live token was made; zero if none is live at now.
func (s *Store) LastResetAt(ctx context.Context, userID int64, now time.Time) (last time.Time, err error) {
	defer wrap(&err, "last reset at")
	err = s.r.QueryRowContext(ctx, `
		SELECT max(created_at) FROM reset_tokens
		WHERE user_id = ? AND used_at IS NULL AND expires_at > ?`, userID, micros(now)).Scan(timeCol{&last})
	return last, err
}
