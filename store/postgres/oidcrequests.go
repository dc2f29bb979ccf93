package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// CreateAuthRequest stores a new authorization request of a client the site has (ENOTFOUND
// otherwise), stamping r.CreatedAt if the caller left it zero. An ID in use is ECONFLICT.
func (s *Store) CreateAuthRequest(ctx context.Context, r *hmisauth.AuthRequest) (err error) {
	defer wrap(&err, "create auth request")
	switch {
	case r.ID == "":
		return hmisauth.FieldError("id", "An authorization request needs an ID.")
	case r.ExpiresAt.IsZero():
		return hmisauth.FieldError("expires_at", "An authorization request needs an expiry.")
	}
	created := r.CreatedAt
	if r.CreatedAt.IsZero() {
		r.CreatedAt = sqlstore.Now()
	}
	err = s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `
			INSERT INTO oidc_auth_requests (id, site, client_id, redirect_uri, scopes, state, nonce,
				response_type, code_challenge, code_challenge_method, prompt, max_age_ns, login_hint,
				hint_subject, browser_hash, created_at, expires_at)
			SELECT $1, site, id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
			FROM oidc_clients WHERE site = $16 AND id = $17`,
			r.ID, r.RedirectURI, sqlstore.ListArg(r.Scopes), r.State, r.Nonce, r.ResponseType, r.CodeChallenge,
			r.CodeChallengeMethod, sqlstore.ListArg(r.Prompt), int64(r.MaxAge), r.LoginHint, r.HintSubject,
			r.BrowserHash, timeArg(r.CreatedAt), timeArg(r.ExpiresAt), r.Site, r.ClientID)
		switch {
		case isUnique(err):
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That authorization request ID is already in use.")
		case isForeignKey(err):
			return sqlstore.NoClient() // deleted between the SELECT and the foreign key's check
		}
		return sqlstore.Changed(res, err, sqlstore.NoClient)
	})
	if err != nil {
		r.CreatedAt = created
	}
	return err
}

const authRequestFields = `id, site, client_id, redirect_uri, scopes, state, nonce, response_type,
	code_challenge, code_challenge_method, prompt, max_age_ns, login_hint, hint_subject,
	browser_hash, created_at, expires_at, coalesce(user_id, 0), coalesce(session_id, 0),
	auth_time, amr, done_at, code_hash, code_used_at`

func scanAuthRequest(row scanner, notFound func() error) (*hmisauth.AuthRequest, error) {
	r := new(hmisauth.AuthRequest)
	var maxAge int64
	err := row.Scan(&r.ID, &r.Site, &r.ClientID, &r.RedirectURI, sqlstore.ScanList(&r.Scopes), &r.State,
		&r.Nonce, &r.ResponseType, &r.CodeChallenge, &r.CodeChallengeMethod, sqlstore.ScanList(&r.Prompt),
		&maxAge, &r.LoginHint, &r.HintSubject, &r.BrowserHash, timeCol{&r.CreatedAt},
		timeCol{&r.ExpiresAt}, &r.UserID, &r.SessionID, timeCol{&r.AuthTime}, sqlstore.ScanList(&r.AMR),
		timeCol{&r.DoneAt}, &r.CodeHash, timeCol{&r.CodeUsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	r.MaxAge = time.Duration(maxAge)
	return r, nil
}

// AuthRequest finds an authorization request by ID, expired or not.
func (s *Store) AuthRequest(ctx context.Context, id string) (_ *hmisauth.AuthRequest, err error) {
	defer wrap(&err, "auth request")
	return scanAuthRequest(s.readRow(ctx,
		`SELECT `+authRequestFields+` FROM oidc_auth_requests WHERE id = $1`, id), sqlstore.NoAuthRequest)
}

// CompleteAuthRequest records who signed in for the request, once, in one conditional update:
// the request must be unfinished and unexpired at at, and the session must still be there and
// be the user's on the request's site. The session's link to the client is recorded in the same
// transaction.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, userID, sessionID int64, authTime time.Time, amr []string, at time.Time) (err error) {
	defer wrap(&err, "complete auth request")
	return s.write(ctx, func(tx *sql.Tx) error {
		var site, client string
		err := tx.QueryRowContext(ctx, `
			UPDATE oidc_auth_requests SET user_id = $1, session_id = $2, auth_time = $3, amr = $4, done_at = $5
			WHERE id = $6 AND done_at IS NULL AND expires_at > $5
				AND EXISTS (SELECT 1 FROM sessions s
					WHERE s.id = $2 AND s.user_id = $1 AND s.site = oidc_auth_requests.site)
			RETURNING site, client_id`,
			userID, sessionID, timeArg(authTime), sqlstore.ListArg(amr), timeArg(at), id).Scan(&site, &client)
		if errors.Is(err, sql.ErrNoRows) || isForeignKey(err) {
			return sqlstore.NoAuthRequest() // isForeignKey: the session ended after the check (see there)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO oidc_session_clients (session_id, client_id, site, first_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (session_id, client_id) DO NOTHING`, sessionID, client, site, timeArg(at))
		if isForeignKey(err) {
			return sqlstore.NoAuthRequest()
		}
		return err
	})
}

// SaveAuthCode gives a finished request its code's hash, once.
func (s *Store) SaveAuthCode(ctx context.Context, id string, codeHash []byte) (err error) {
	defer wrap(&err, "save auth code")
	if len(codeHash) == 0 {
		return hmisauth.FieldError("code", "No code given.")
	}
	return s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `
			UPDATE oidc_auth_requests SET code_hash = $1 WHERE id = $2 AND done_at IS NOT NULL AND code_hash IS NULL`,
			codeHash, id)
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That code is already another request's.")
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var done, hasCode bool
		err = w.QueryRowContext(ctx,
			`SELECT done_at IS NOT NULL, code_hash IS NOT NULL FROM oidc_auth_requests WHERE id = $1`, id).
			Scan(&done, &hasCode)
		switch {
		case errors.Is(err, sql.ErrNoRows) || (err == nil && !done):
			return sqlstore.NoAuthRequest()
		case err != nil:
			return err
		case hasCode:
			return hmisauth.Errorf(hmisauth.ECONFLICT, "This request has its code already.")
		}
		return errors.New("the code was not saved, yet the request is done and has none")
	})
}

// UseAuthCode redeems a code in one transaction. The redemption is one conditional update
// (code_used_at IS NULL), so of parallel uses exactly one returns the request; each of the
// others finds the code used and is a replay, decided in the same transaction: the request is
// marked replayed (IssueTokens refuses it from then on, so a replay that beats the winner's
// IssueTokens still leaves no token) and what was issued from it is revoked, with the events
// ctx carries. A redemption appends none (those events are the replay's); an unknown,
// unfinished or expired code changes nothing.
func (s *Store) UseAuthCode(ctx context.Context, codeHash []byte, now time.Time) (r *hmisauth.AuthRequest, err error) {
	defer wrap(&err, "use auth code")
	if len(codeHash) == 0 {
		return nil, sqlstore.NoCode()
	}
	err = s.decide(ctx, func(tx *sql.Tx) (bool, error, error) {
		var err error
		r, err = scanAuthRequest(tx.QueryRowContext(ctx, `
			UPDATE oidc_auth_requests SET code_used_at = $1
			WHERE code_hash = $2 AND done_at IS NOT NULL AND code_used_at IS NULL AND expires_at > $1
			RETURNING `+authRequestFields, timeArg(now), codeHash), sqlstore.NoCode)
		if hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
			return false, nil, err
		}
		var id string
		var session int64
		err = tx.QueryRowContext(ctx, `
			UPDATE oidc_auth_requests SET replayed_at = coalesce(replayed_at, $1::timestamptz)
			WHERE code_hash = $2 AND code_used_at IS NOT NULL
			RETURNING id, session_id`, timeArg(now), codeHash).Scan(&id, &session)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil, sqlstore.NoCode()
		}
		if err != nil {
			return false, nil, err
		}
		if err := revokeRequest(ctx, tx, id, session); err != nil {
			return false, nil, err
		}
		return true, sqlstore.CodeReplayed(), nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// revokeRequest removes every token issued from the authorization request: its access tokens,
// and the refresh families it began, with every access token refreshed in them. They are all
// the request's session's (IssueTokens sees to it), so they are found through it.
func revokeRequest(ctx context.Context, tx *sql.Tx, id string, session int64) error {
	for _, q := range []string{
		`DELETE FROM oidc_access_tokens WHERE session_id = $2 AND (auth_request_id = $1 OR family IN (
			SELECT family FROM oidc_refresh_tokens WHERE session_id = $2 AND auth_request_id = $1))`,
		`DELETE FROM oidc_refresh_tokens WHERE session_id = $2 AND family IN (
			SELECT family FROM oidc_refresh_tokens WHERE session_id = $2 AND auth_request_id = $1)`,
	} {
		if _, err := tx.ExecContext(ctx, q, id, session); err != nil {
			return err
		}
	}
	return nil
}
