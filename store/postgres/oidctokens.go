package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
	"github.com/jackc/pgx/v5/pgconn"
)

// isForeignKey reports whether err is a foreign key violation. A session ended by a statement
// that does not take the write lock (a sign-out without notices, the expiry sweep) can go
// between grantLive's check and the insert's own foreign key check: the insert then fails
// on sessions (id), and the session is gone as surely as if grantLive had not found it.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// grantLive is the condition, on arguments $2 site, $3 client, $4 user, $5 session and
// $6 authorization request, under which a token may be stored: the session is still there and
// is the user's on the site, it signed in to the client (so the client is the site's, and the
// client's tokens are found through its sessions), and the request (if any) was not replayed
// and is the session's (so a request's tokens are found through its session). Checked by the
// insert itself, under the write lock, so no session end or replay can come between the check
// and the token.
const grantLive = `
	WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $5 AND user_id = $4 AND site = $2)
		AND EXISTS (SELECT 1 FROM oidc_session_clients WHERE session_id = $5 AND client_id = $3 AND site = $2)
		AND NOT EXISTS (SELECT 1 FROM oidc_auth_requests
			WHERE id = $6 AND (replayed_at IS NOT NULL OR session_id IS DISTINCT FROM $5))`

// The statements of IssueTokens and RotateRefreshToken (pgx prepares and caches them on each
// connection).
const (
	insertAccess = `
		INSERT INTO oidc_access_tokens (id, site, client_id, user_id, session_id, auth_request_id,
			family, scopes, created_at, expires_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10` + grantLive
	insertRefresh = `
		INSERT INTO oidc_refresh_tokens (hash, site, client_id, user_id, session_id, auth_request_id,
			family, scopes, auth_time, amr, created_at, expires_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12` + grantLive
	rotateRefresh = `
		UPDATE oidc_refresh_tokens SET rotated_at = $1
		WHERE hash = $2 AND rotated_at IS NULL AND expires_at > $1
		RETURNING family, site, client_id, user_id, session_id, auth_request_id`
)

// insertAccessToken stores at if its grant is live (sqlstore.NoGrant otherwise), stamping CreatedAt.
func (s *Store) insertAccessToken(ctx context.Context, tx *sql.Tx, at *hmisauth.AccessToken) error {
	if at.CreatedAt.IsZero() {
		at.CreatedAt = sqlstore.Now()
	}
	res, err := tx.ExecContext(ctx, insertAccess,
		at.ID, at.Site, at.ClientID, at.UserID, at.SessionID, at.AuthRequestID, at.Family,
		sqlstore.ListArg(at.Scopes), timeArg(at.CreatedAt), timeArg(at.ExpiresAt))
	switch {
	case isUnique(err):
		return hmisauth.Errorf(hmisauth.ECONFLICT, "That access token ID is already in use.")
	case isForeignKey(err):
		return sqlstore.NoGrant()
	}
	return sqlstore.Changed(res, err, sqlstore.NoGrant)
}

// insertRefreshToken stores rt, not rotated, if its grant is live (sqlstore.NoGrant otherwise),
// stamping CreatedAt.
func (s *Store) insertRefreshToken(ctx context.Context, tx *sql.Tx, rt *hmisauth.RefreshToken) error {
	if rt.Family == "" {
		return hmisauth.FieldError("refresh_token", "A refresh token needs its family.")
	}
	if rt.CreatedAt.IsZero() {
		rt.CreatedAt = sqlstore.Now()
	}
	rt.RotatedAt = time.Time{}
	res, err := tx.ExecContext(ctx, insertRefresh,
		rt.Hash, rt.Site, rt.ClientID, rt.UserID, rt.SessionID, rt.AuthRequestID, rt.Family,
		sqlstore.ListArg(rt.Scopes), timeArg(rt.AuthTime), sqlstore.ListArg(rt.AMR),
		timeArg(rt.CreatedAt), timeArg(rt.ExpiresAt))
	switch {
	case isUnique(err):
		return hmisauth.Errorf(hmisauth.ECONFLICT, "That refresh token is already in use.")
	case isForeignKey(err):
		return sqlstore.NoGrant()
	}
	return sqlstore.Changed(res, err, sqlstore.NoGrant)
}

// IssueTokens stores at and rt (when not nil) in one transaction, each insert checking its
// grant is live: the session not ended, the code not replayed.
func (s *Store) IssueTokens(ctx context.Context, at *hmisauth.AccessToken, rt *hmisauth.RefreshToken) (err error) {
	defer wrap(&err, "issue tokens")
	if err := sqlstore.CheckAccessToken(at); err != nil {
		return err
	}
	if rt != nil {
		if err := sqlstore.CheckRefreshToken(rt); err != nil {
			return err
		}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := s.insertAccessToken(ctx, tx, at); err != nil || rt == nil {
			return err
		}
		return s.insertRefreshToken(ctx, tx, rt)
	})
}

const refreshTokenFields = `hash, family, site, client_id, user_id, session_id, auth_request_id,
	scopes, auth_time, amr, created_at, expires_at, rotated_at`

// RefreshToken finds a refresh token by hash, rotated or not.
func (s *Store) RefreshToken(ctx context.Context, hash []byte) (_ *hmisauth.RefreshToken, err error) {
	defer wrap(&err, "refresh token")
	rt := new(hmisauth.RefreshToken)
	err = s.readRow(ctx, `SELECT `+refreshTokenFields+` FROM oidc_refresh_tokens WHERE hash = $1`, hash).
		Scan(&rt.Hash, &rt.Family, &rt.Site, &rt.ClientID, &rt.UserID, &rt.SessionID, &rt.AuthRequestID,
			sqlstore.ScanList(&rt.Scopes), timeCol{&rt.AuthTime}, sqlstore.ScanList(&rt.AMR), timeCol{&rt.CreatedAt},
			timeCol{&rt.ExpiresAt}, timeCol{&rt.RotatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoRefreshToken()
	}
	if err != nil {
		return nil, err
	}
	return rt, nil
}

// RotateRefreshToken uses the refresh token oldHash in one transaction. Marking it rotated is
// one conditional update (rotated_at IS NULL), so of parallel uses exactly one goes on; each of
// the others finds it rotated, which is reuse, decided in the same transaction: the family is
// revoked. next and at are stored in oldHash's grant: their family, site, client, user,
// session and authorization request are set from the old token's (at joins the family), the
// rest is the caller's.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash []byte, now time.Time, next *hmisauth.RefreshToken, at *hmisauth.AccessToken) (err error) {
	defer wrap(&err, "rotate refresh token")
	if err := sqlstore.CheckRefreshToken(next); err != nil {
		return err
	}
	if err := sqlstore.CheckAccessToken(at); err != nil {
		return err
	}
	return s.decide(ctx, func(tx *sql.Tx) (bool, error, error) {
		var g hmisauth.RefreshToken
		err := tx.QueryRowContext(ctx, rotateRefresh, timeArg(now), oldHash).Scan(&g.Family, &g.Site, &g.ClientID, &g.UserID, &g.SessionID, &g.AuthRequestID)
		if errors.Is(err, sql.ErrNoRows) {
			var site, family string
			var rotated bool
			err := tx.QueryRowContext(ctx,
				`SELECT site, family, rotated_at IS NOT NULL FROM oidc_refresh_tokens WHERE hash = $1`, oldHash).
				Scan(&site, &family, &rotated)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && !rotated) {
				return false, nil, sqlstore.NoRefreshToken()
			}
			if err != nil {
				return false, nil, err
			}
			if _, err := revokeFamily(ctx, tx, site, family); err != nil {
				return false, nil, err
			}
			return false, sqlstore.RefreshReused(), nil
		}
		if err != nil {
			return false, nil, err
		}
		next.Family, next.Site, next.ClientID = g.Family, g.Site, g.ClientID
		next.UserID, next.SessionID, next.AuthRequestID = g.UserID, g.SessionID, g.AuthRequestID
		at.Family, at.Site, at.ClientID = g.Family, g.Site, g.ClientID
		at.UserID, at.SessionID, at.AuthRequestID = g.UserID, g.SessionID, g.AuthRequestID
		if err := s.insertRefreshToken(ctx, tx, next); err != nil {
			return false, nil, err
		}
		return true, nil, s.insertAccessToken(ctx, tx, at)
	})
}

// revokeFamily removes a site's refresh family and its access tokens, and counts them. The
// access tokens are found in the sessions of the family's refresh tokens (a family is one
// session's): an access token never outlives its session, so never its family's refresh
// tokens either.
func revokeFamily(ctx context.Context, tx *sql.Tx, site, family string) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM oidc_access_tokens WHERE family = $1 AND site = $2
			AND session_id IN (SELECT session_id FROM oidc_refresh_tokens WHERE family = $1)`,
		`DELETE FROM oidc_refresh_tokens WHERE family = $1 AND site = $2`,
	} {
		res, err := tx.ExecContext(ctx, q, family, site)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// RevokeFamily removes the site's refresh family with its access tokens, appending ctx's
// events only when there was something.
func (s *Store) RevokeFamily(ctx context.Context, site, family string) (revoked bool, err error) {
	defer wrap(&err, "revoke family")
	if family == "" {
		return false, nil // "" is every access token refreshed in no family, never a family
	}
	err = s.decide(ctx, func(tx *sql.Tx) (bool, error, error) {
		n, err := revokeFamily(ctx, tx, site, family)
		revoked = n > 0
		return revoked, nil, err
	})
	return revoked && err == nil, err
}

// AccessToken finds an access token's record by ID (a primary-key lookup on the pool).
func (s *Store) AccessToken(ctx context.Context, id string) (_ *hmisauth.AccessToken, err error) {
	defer wrap(&err, "access token")
	at := new(hmisauth.AccessToken)
	err = s.readRow(ctx, `
		SELECT id, site, client_id, user_id, session_id, auth_request_id, family, scopes, created_at, expires_at
		FROM oidc_access_tokens WHERE id = $1`, id).
		Scan(&at.ID, &at.Site, &at.ClientID, &at.UserID, &at.SessionID, &at.AuthRequestID, &at.Family,
			sqlstore.ScanList(&at.Scopes), timeCol{&at.CreatedAt}, timeCol{&at.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoAccessToken()
	}
	if err != nil {
		return nil, err
	}
	return at, nil
}

// RevokeAccessToken removes one access token's record by one delete, appending ctx's events
// only when there was one.
func (s *Store) RevokeAccessToken(ctx context.Context, site, id string) (_ bool, err error) {
	defer wrap(&err, "revoke access token")
	return s.once(ctx, nil, `DELETE FROM oidc_access_tokens WHERE site = $1 AND id = $2`, site, id)
}

// SessionClients lists, for each of the user's sessions that signed in to a client, the
// client IDs in the order first signed in. A session that signed in to none has no entry.
func (s *Store) SessionClients(ctx context.Context, userID int64) (_ map[int64][]string, err error) {
	defer wrap(&err, "session clients")
	rows, err := s.db.QueryContext(ctx, `
		SELECT sc.session_id, sc.client_id
		FROM sessions s JOIN oidc_session_clients sc ON sc.session_id = s.id
		WHERE s.user_id = $1
		ORDER BY sc.session_id, sc.first_at, sc.seq`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64][]string)
	for rows.Next() {
		var id int64
		var client string
		if err := rows.Scan(&id, &client); err != nil {
			return nil, err
		}
		out[id] = append(out[id], client)
	}
	return out, rows.Err()
}
