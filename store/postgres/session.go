package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// CreateSession inserts s and sets s.ID; with single, the user's other sessions end in the
// same transaction, with reason EndedElsewhere. The user must be on s.Site and not disabled,
// checked by the insert itself: a sign-in that raced an administrator's disable cannot leave a
// session behind it.
func (s *Store) CreateSession(ctx context.Context, sess *hmisauth.Session, single bool) (err error) {
	defer wrap(&err, "create session")
	return s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO sessions (site, user_id, token_hash, created_at, last_seen_at, expires_at,
				reauth_at, client_addr, user_agent, sid, amr)
			SELECT site, id, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM users WHERE id = $10 AND site = $11 AND NOT disabled
			RETURNING id`,
			sess.TokenHash, timeArg(sess.CreatedAt), timeArg(sess.LastSeenAt), timeArg(sess.ExpiresAt),
			timeArg(sess.ReauthAt), sess.ClientAddr, sess.UserAgent, sqlstore.TextArg(sess.SID), sqlstore.ListArg(sess.AMR),
			sess.UserID, sess.Site,
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
		_, err = endSessions(ctx, tx, hmisauth.EndedElsewhere, sess.CreatedAt, `user_id = $1 AND id <> $2`, sess.UserID, sess.ID)
		return err
	})
}

// endSessions ends the sessions matching where (a condition on sessions whose arguments are
// args, numbered $1, $2 … in it: the statements number their own after them), keeping reason
// under each one's token hash for its browser to be told, queueing the back-channel logouts
// their applications are owed, and counts them. It must run in the
// transaction of the change that ends them; at is when (by the caller's clock, like every time
// the store keeps). Their tokens, client links and authorization requests go with them (ON
// DELETE CASCADE).
func endSessions(ctx context.Context, tx *sql.Tx, reason string, at time.Time, where string, args ...any) (int64, error) {
	if err := queueLogouts(ctx, tx, at, where, args...); err != nil {
		return 0, err
	}
	n := len(args)
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`
		INSERT INTO session_ends (token_hash, user_id, reason, ended_at)
		SELECT token_hash, user_id, $%d::text, $%d::timestamptz FROM sessions WHERE %s
		ON CONFLICT (token_hash) DO UPDATE SET reason = excluded.reason, ended_at = excluded.ended_at`,
		n+1, n+2, where),
		append(args[:n:n], reason, timeArg(at))...); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE `+where, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queueLogouts queues, for each session matching where that is about to end, one logout
// notice per client it signed in to that has a back-channel logout URI, made and due at at.
// A zero at is the session's last use (DeleteSession is given no time): by the caller's clock
// like every time the store keeps, and never after the sign-out, so the notice is due at once
// for a worker on that clock. It must run in the transaction that deletes the sessions, before
// the delete: the client links go with them. where's arguments are $1, $2 … as in endSessions.
// The notices are made in the order the session signed in to its clients (seq breaks a tie of
// first_at, as SQLite's rowid did), which is the order their ids follow.
func queueLogouts(ctx context.Context, tx *sql.Tx, at time.Time, where string, args ...any) error {
	n := len(args)
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		INSERT INTO oidc_logout_notices (site, client_id, uri, subject, sid, created_at, next_attempt_at)
		SELECT c.site, c.id, c.backchannel_logout_uri, coalesce(u.subject, ''), coalesce(s.sid, ''), s.at, s.at
		FROM (SELECT id, user_id, sid, coalesce($%d::timestamptz, last_seen_at, created_at, $%d::timestamptz) AS at
			FROM sessions WHERE %s) s
		JOIN oidc_session_clients sc ON sc.session_id = s.id
		JOIN oidc_clients c ON c.site = sc.site AND c.id = sc.client_id
		JOIN users u ON u.id = s.user_id
		WHERE c.backchannel_logout_uri <> ''
		ORDER BY s.id, sc.first_at, sc.seq`, n+1, n+2, where),
		append(args[:n:n], timeArg(at), timeArg(sqlstore.Now()))...)
	return err
}

// whyNoSession explains an insert that matched no user.
func whyNoSession(ctx context.Context, tx *sql.Tx, sess *hmisauth.Session) error {
	var disabled bool
	err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = $1 AND site = $2`,
		sess.UserID, sess.Site).Scan(&disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sqlstore.NoUser()
	case err != nil:
		return err
	case disabled:
		return hmisauth.Errorf(hmisauth.EFORBIDDEN, "This account is disabled.")
	}
	return errors.New("session insert matched no user, yet the user is there and enabled")
}

// sessionColumns selects a session: the list sessionFields (qualified, for SessionAndUser's
// join with the user) from sessions.
const sessionColumns = sessionFields + ` FROM sessions s`

const sessionFields = `s.id, s.site, s.user_id, s.token_hash, s.created_at, s.last_seen_at,
	s.expires_at, s.reauth_at, s.client_addr, s.user_agent, coalesce(s.sid, ''), s.amr`

// sessionDest is where a row's sessionFields go.
func sessionDest(sess *hmisauth.Session) []any {
	return []any{&sess.ID, &sess.Site, &sess.UserID, &sess.TokenHash, timeCol{&sess.CreatedAt},
		timeCol{&sess.LastSeenAt}, timeCol{&sess.ExpiresAt}, timeCol{&sess.ReauthAt},
		&sess.ClientAddr, &sess.UserAgent, &sess.SID, sqlstore.ScanList(&sess.AMR)}
}

func scanSession(row scanner) (*hmisauth.Session, error) {
	sess := new(hmisauth.Session)
	err := row.Scan(sessionDest(sess)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoSession()
	}
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// sessionThen is a row of sessionFields followed by another scanner's columns (scanUser's):
// Scan fills sess first, and remembers whether there was no row at all.
type sessionThen struct {
	row  scanner
	sess hmisauth.Session
	none bool
}

func (r *sessionThen) Scan(dest ...any) error {
	err := r.row.Scan(append(sessionDest(&r.sess), dest...)...)
	r.none = errors.Is(err, sql.ErrNoRows)
	return err
}

// SessionByToken finds a session by the hash of its token.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (_ *hmisauth.Session, err error) {
	defer wrap(&err, "session by token")
	return scanSession(s.readRow(ctx, `SELECT `+sessionColumns+` WHERE token_hash = $1`, tokenHash))
}

// SessionAndUser finds a session by the hash of its token, and its user with the lockout
// state, in one statement (scanUser's columns after the session's).
func (s *Store) SessionAndUser(ctx context.Context, tokenHash []byte) (_ *hmisauth.Session, _ *hmisauth.User, err error) {
	defer wrap(&err, "session and user")
	row := &sessionThen{row: s.readRow(ctx, `SELECT `+sessionFields+`, `+userFields+`
		`+userFrom+` JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = $1`, tokenHash)}
	u, err := scanUser(row)
	if row.none {
		return nil, nil, sqlstore.NoSession()
	}
	if err != nil {
		return nil, nil, err
	}
	return &row.sess, u, nil
}

// Session finds a session by its ID.
func (s *Store) Session(ctx context.Context, id int64) (_ *hmisauth.Session, err error) {
	defer wrap(&err, "session")
	return scanSession(s.readRow(ctx, `SELECT `+sessionColumns+` WHERE id = $1`, id))
}

// UserSessions lists the user's sessions, newest first (by creation, then by ID).
func (s *Store) UserSessions(ctx context.Context, userID int64) (_ []*hmisauth.Session, err error) {
	defer wrap(&err, "user sessions")
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+sessionColumns+` WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, rows.Err()
}

// TouchSession records use of the session at the given time. It never moves LastSeenAt back:
// parallel requests finish in any order.
func (s *Store) TouchSession(ctx context.Context, id int64, at time.Time) (err error) {
	defer wrap(&err, "touch session")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.SessionChanged(w.ExecContext(ctx, `
			UPDATE sessions SET last_seen_at = CASE
				WHEN last_seen_at IS NULL OR last_seen_at < $1::timestamptz THEN $1::timestamptz ELSE last_seen_at END
			WHERE id = $2`, timeArg(at), id))
	})
}

// DeleteSession ends one session, its tokens with it. Ending one that has already ended is not
// an error: two tabs signing out at once both succeed. A sign-out (signOut) queues its
// back-channel logouts in the same transaction, made and due at the session's last use (the
// method is given no time; see queueLogouts). A time-out queues none.
func (s *Store) DeleteSession(ctx context.Context, id int64, signOut bool) (err error) {
	defer wrap(&err, "delete session")
	if !signOut {
		return s.exec(ctx, func(w dbtx) error {
			_, err := w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id)
			return err
		})
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := queueLogouts(ctx, tx, time.Time{}, `id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id)
		return err
	})
}

// DeleteUserSessions ends every session of the user except keepID (0: all), keeping reason.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keepID int64, reason string, at time.Time) (err error) {
	defer wrap(&err, "delete user sessions")
	if err := sqlstore.CheckReason(reason); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := endSessions(ctx, tx, reason, at, `user_id = $1 AND id <> $2`, userID, keepID)
		return err
	})
}

// EndUserSession ends the user's session id, keeping reason. The user is part of the
// condition, so a session ID guessed from another account ends nothing.
func (s *Store) EndUserSession(ctx context.Context, userID, id int64, reason string, at time.Time) (err error) {
	defer wrap(&err, "end user session")
	if err := sqlstore.CheckReason(reason); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		n, err := endSessions(ctx, tx, reason, at, `id = $1 AND user_id = $2`, id, userID)
		if err == nil && n == 0 {
			return sqlstore.NoSession()
		}
		return err
	})
}

// SessionEndReason says why the session with this token hash was ended early, if that was
// within SessionEndKept before now.
func (s *Store) SessionEndReason(ctx context.Context, tokenHash []byte, now time.Time) (reason string, err error) {
	defer wrap(&err, "session end reason")
	err = s.db.QueryRowContext(ctx, `SELECT reason FROM session_ends WHERE token_hash = $1 AND ended_at >= $2`,
		tokenHash, timeArg(now.Add(-hmisauth.SessionEndKept))).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sqlstore.NoSession()
	}
	if err != nil {
		return "", err
	}
	return reason, nil
}

// Reauthenticated records the re-entry of the password at, and gives the session
// newTokenHash when it is not nil. A token already in use is ECONFLICT.
func (s *Store) Reauthenticated(ctx context.Context, id int64, at time.Time, newTokenHash []byte) (err error) {
	defer wrap(&err, "reauthenticated")
	return s.exec(ctx, func(w dbtx) error {
		// No new hash binds as NULL, which keeps the token.
		var hash any
		if newTokenHash != nil {
			hash = newTokenHash
		}
		res, err := w.ExecContext(ctx,
			`UPDATE sessions SET reauth_at = $1, token_hash = coalesce($2::bytea, token_hash) WHERE id = $3`,
			timeArg(at), hash, id)
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That session token is already in use.")
		}
		return sqlstore.SessionChanged(res, err)
	})
}

// DeleteExpiredSessions removes sessions whose absolute limit is at or before now, or last
// seen before idleBefore, and counts them; their tokens go with them, and no application is
// told (a time-out). A zero idleBefore removes none for idleness (no idle
// limit). With them go login challenges and remembered devices expired at now, and the reasons
// of sessions ended more than SessionEndKept before now. The statements need no transaction
// together: each removes only what no one can use any more.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (deleted int, err error) {
	defer wrap(&err, "delete expired sessions")
	err = s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx,
			`DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, timeArg(now), timeArg(idleBefore))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		deleted = int(n)
		for _, q := range []string{
			`DELETE FROM login_challenges WHERE expires_at <= $1`,
			`DELETE FROM remembered_devices WHERE expires_at <= $1`,
		} {
			if _, err := w.ExecContext(ctx, q, timeArg(now)); err != nil {
				return err
			}
		}
		_, err = w.ExecContext(ctx, `DELETE FROM session_ends WHERE ended_at < $1`,
			timeArg(now.Add(-hmisauth.SessionEndKept)))
		return err
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}
