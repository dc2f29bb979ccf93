package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The form tokens (hmisauth.FormToken): working state of the pages, never audited, so these
// run without the events a context may carry.

// IssueFormToken stores t, unused, for its session, and sets t.ID; see hmisauth.Store.
func (s *Store) IssueFormToken(ctx context.Context, t *hmisauth.FormToken) (err error) {
	defer wrap(&err, "issue form token")
	err = s.w.QueryRowContext(ctx, `
		INSERT INTO form_tokens (hash, session_id, purpose, created_at, expires_at)
		SELECT ?, id, ?, ?, ? FROM sessions WHERE id = ?
		RETURNING id`,
		t.Hash, t.Purpose, micros(t.CreatedAt), micros(t.ExpiresAt), t.SessionID).Scan(&t.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return noFormSession()
	case isUnique(err):
		return hmisauth.Errorf(hmisauth.ECONFLICT, "That form token is already in use.")
	}
	return err
}

func noFormSession() error {
	return hmisauth.Errorf(hmisauth.ENOTFOUND, "The session has ended: sign in again.")
}

func noFormToken() error {
	return hmisauth.Errorf(hmisauth.ENOTFOUND, "This form has expired or belongs to another page.")
}

// UseFormToken uses the token once, in one write transaction (which holds the write lock from
// its first statement, so parallel uses take turns); see hmisauth.Store.
func (s *Store) UseFormToken(ctx context.Context, hash []byte, sessionID int64, purpose string, now time.Time) (t *hmisauth.FormToken, first bool, err error) {
	defer wrap(&err, "use form token")
	err = s.writeEvents(ctx, nil, func(tx *sql.Tx) error {
		t, first = &hmisauth.FormToken{}, false
		err := tx.QueryRowContext(ctx, `
			SELECT id, hash, session_id, purpose, created_at, expires_at, used_at, result
			FROM form_tokens WHERE hash = ? AND session_id = ? AND purpose = ? AND expires_at > ?`,
			hash, sessionID, purpose, micros(now)).Scan(&t.ID, &t.Hash, &t.SessionID, &t.Purpose,
			timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt}, &t.Result)
		if errors.Is(err, sql.ErrNoRows) {
			return noFormToken()
		} else if err != nil || !t.UsedAt.IsZero() {
			return err
		}
		t.UsedAt, first = now.UTC().Truncate(time.Microsecond), true
		_, err = tx.ExecContext(ctx, `UPDATE form_tokens SET used_at = ? WHERE id = ?`, micros(t.UsedAt), t.ID)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return t, first, nil
}

// CompleteFormToken records what the token's first use did; see hmisauth.Store.
func (s *Store) CompleteFormToken(ctx context.Context, hash []byte, result string) (err error) {
	defer wrap(&err, "complete form token")
	_, err = s.w.ExecContext(ctx, `
		UPDATE form_tokens SET result = ? WHERE hash = ? AND used_at IS NOT NULL AND result = ''`, result, hash)
	return err
}

// ReleaseFormToken makes a used token without a result unused again; see hmisauth.Store.
func (s *Store) ReleaseFormToken(ctx context.Context, hash []byte) (err error) {
	defer wrap(&err, "release form token")
	_, err = s.w.ExecContext(ctx, `UPDATE form_tokens SET used_at = NULL WHERE hash = ? AND result = ''`, hash)
	return err
}
