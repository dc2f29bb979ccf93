package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The form tokens (hmisauth.FormToken): working state of the pages, never audited, so these
// run without the events a context may carry. Each is a single statement, atomic by itself at
// READ COMMITTED, so none takes the write lock.

// IssueFormToken stores t, unused, for its session, and sets t.ID; see hmisauth.Store.
func (s *Store) IssueFormToken(ctx context.Context, t *hmisauth.FormToken) (err error) {
	defer wrap(&err, "issue form token")
	err = retry(ctx, func() error {
		return s.db.QueryRowContext(ctx, `
			INSERT INTO form_tokens (hash, session_id, purpose, created_at, expires_at)
			SELECT $1, id, $2, $3, $4 FROM sessions WHERE id = $5
			RETURNING id`,
			t.Hash, t.Purpose, timeArg(t.CreatedAt), timeArg(t.ExpiresAt), t.SessionID).Scan(&t.ID)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return hmisauth.Errorf(hmisauth.ENOTFOUND, "The session has ended: sign in again.")
	case isUnique(err):
		return hmisauth.Errorf(hmisauth.ECONFLICT, "That form token is already in use.")
	}
	return err
}

const formTokenColumns = `id, hash, session_id, purpose, created_at, expires_at, used_at, result`

// UseFormToken uses the token once; see hmisauth.Store. The conditional update decides: a
// parallel use waits for the first's row lock, then finds used_at set and updates nothing. A
// use that updates nothing reads the token as it is, and tries again in the rare case that it
// was given back (ReleaseFormToken) in between.
func (s *Store) UseFormToken(ctx context.Context, hash []byte, sessionID int64, purpose string, now time.Time) (t *hmisauth.FormToken, first bool, err error) {
	defer wrap(&err, "use form token")
	scan := func(row *sql.Row) (*hmisauth.FormToken, error) {
		t := &hmisauth.FormToken{}
		err := row.Scan(&t.ID, &t.Hash, &t.SessionID, &t.Purpose, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt},
			timeCol{&t.UsedAt}, &t.Result)
		return t, err
	}
	for range maxTries {
		t, err = scan(s.db.QueryRowContext(ctx, `
			UPDATE form_tokens SET used_at = $5
			WHERE hash = $1 AND session_id = $2 AND purpose = $3 AND expires_at > $4 AND used_at IS NULL
			RETURNING `+formTokenColumns, hash, sessionID, purpose, timeArg(now), timeArg(now)))
		if err == nil {
			return t, true, nil
		} else if !errors.Is(err, sql.ErrNoRows) && !retryable(err) {
			return nil, false, err
		}
		t, err = scan(s.db.QueryRowContext(ctx, `
			SELECT `+formTokenColumns+` FROM form_tokens
			WHERE hash = $1 AND session_id = $2 AND purpose = $3 AND expires_at > $4`,
			hash, sessionID, purpose, timeArg(now)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, hmisauth.Errorf(hmisauth.ENOTFOUND, "This form has expired or belongs to another page.")
		} else if err != nil {
			return nil, false, err
		}
		if !t.UsedAt.IsZero() {
			return t, false, nil
		}
	}
	return nil, false, errors.New("the form token was given back and used again too often")
}

// CompleteFormToken records what the token's first use did; see hmisauth.Store.
func (s *Store) CompleteFormToken(ctx context.Context, hash []byte, result string) (err error) {
	defer wrap(&err, "complete form token")
	return retry(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `
			UPDATE form_tokens SET result = $2 WHERE hash = $1 AND used_at IS NOT NULL AND result = ''`, hash, result)
		return err
	})
}

// ReleaseFormToken makes a used token without a result unused again; see hmisauth.Store.
func (s *Store) ReleaseFormToken(ctx context.Context, hash []byte) (err error) {
	defer wrap(&err, "release form token")
	return retry(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `UPDATE form_tokens SET used_at = NULL WHERE hash = $1 AND result = ''`, hash)
		return err
	})
}
