package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
)

// CreateSession inserts s and sets s.ID; with single, the user's other sessions end in the
// same transaction. The user must be on s.Site and not disabled, checked by the insert itself:
// a sign-in that raced an administrator's disable cannot leave a session behind it.
func (s *Store) CreateSession(ctx context.Context, sess *hmisauth.Session, single bool) (err error) {
	defer wrap(&err, "create session")
	return s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO sessions (site, user_id, token_hash, created_at, last_seen_at, expires_at,
				reauth_at, client_addr, user_agent)
			SELECT site, id, ?, ?, ?, ?, ?, ?, ? FROM users WHERE id = ? AND site = ? AND disabled = 0
			RETURNING id`,
			sess.TokenHash, micros(sess.CreatedAt), micros(sess.LastSeenAt), micros(sess.ExpiresAt),
			micros(sess.ReauthAt), sess.ClientAddr, sess.UserAgent, sess.UserID, sess.Site,
		).Scan(&sess.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return whyNoSession(ctx, tx, sess)
		}
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That session token is already in use.")
		}
		if err != nil || !single {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, sess.UserID, sess.ID)
		return err
	})
}

// whyNoSession explains an insert that matched no user.
func whyNoSession(ctx context.Context, tx *sql.Tx, sess *hmisauth.Session) error {
	var disabled bool
	err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ? AND site = ?`,
		sess.UserID, sess.Site).Scan(&disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return noUser()
	case err != nil:
		return err
	case disabled:
		return hmisauth.Errorf(hmisauth.EFORBIDDEN, "This account is disabled.")
	}
	return errors.New("session insert matched no user, yet the user is there and enabled")
}

// SessionByToken finds a session by the hash of its token.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (_ *hmisauth.Session, err error) {
	defer wrap(&err, "session by token")
	sess := new(hmisauth.Session)
	err = s.r.QueryRowContext(ctx, `
		SELECT id, site, user_id, token_hash, created_at, last_seen_at, expires_at, reauth_at,
			client_addr, user_agent
		FROM sessions WHERE token_hash = ?`, tokenHash).Scan(
		&sess.ID, &sess.Site, &sess.UserID, &sess.TokenHash, timeCol{&sess.CreatedAt},
		timeCol{&sess.LastSeenAt}, timeCol{&sess.ExpiresAt}, timeCol{&sess.ReauthAt},
		&sess.ClientAddr, &sess.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noSession()
	}
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// TouchSession records use of the session at the given time. It never moves LastSeenAt back:
// parallel requests finish in any order.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time) (err error) {
	defer wrap(&err, "touch session")
	return s.exec(ctx, func(w dbtx) error {
		return sessionChanged(w.ExecContext(ctx, `
			UPDATE sessions SET last_seen_at = CASE
				WHEN last_seen_at IS NULL OR last_seen_at < ?1 THEN ?1 ELSE last_seen_at END
			WHERE id = ?2`, micros(at), id))
	})
}

// DeleteSession ends one session. Ending one that has already ended is not an error: two tabs
// signing out at once both succeed.
func (s *Store) DeleteSession(ctx context.Context, id int64) (err error) {
	defer wrap(&err, "delete session")
	return s.exec(ctx, func(w dbtx) error {
		_, err := w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
}

// DeleteUserSessions ends every session of the user except keepID (0: all).
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keepID int64) (err error) {
	defer wrap(&err, "delete user sessions")
	return s.exec(ctx, func(w dbtx) error {
		_, err := w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keepID)
		return err
	})
}

// DeleteExpiredSessions removes sessions whose absolute limit is at or before now, or last
// seen before idleBefore. A zero idleBefore removes none for idleness (no idle limit).
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (deleted int, err error) {
	defer wrap(&err, "delete expired sessions")
	err = s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx,
			`DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, micros(now), micros(idleBefore))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = int(n)
		return err
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}
