package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// RememberDevice stores d for its user and sets d.ID (and d.CreatedAt if left zero). A token
// hash in use already is ECONFLICT.
func (s *Store) RememberDevice(ctx context.Context, d *hmisauth.RememberedDevice) (err error) {
	defer wrap(&err, "remember device")
	if d.CreatedAt.IsZero() {
		d.CreatedAt = sqlstore.Now()
	}
	return s.exec(ctx, func(w dbtx) error {
		err := w.QueryRowContext(ctx, `
			INSERT INTO remembered_devices (user_id, token_hash, created_at, expires_at, user_agent)
			SELECT id, $1, $2, $3, $4 FROM users WHERE id = $5
			RETURNING id`,
			d.TokenHash, timeArg(d.CreatedAt), timeArg(d.ExpiresAt), d.UserAgent, d.UserID,
		).Scan(&d.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.NoUser()
		}
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That device token is already in use.")
		}
		return err
	})
}

// DeviceRemembered reports whether the user has a remembered device with this token hash that
// expires after now. Another user's device is not this user's.
func (s *Store) DeviceRemembered(ctx context.Context, userID int64, tokenHash []byte, now time.Time) (ok bool, err error) {
	defer wrap(&err, "device remembered")
	err = s.db.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM remembered_devices WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3)`,
		tokenHash, userID, timeArg(now)).Scan(&ok)
	return ok && err == nil, err
}

// forgetBrowsers removes all the user's remembered devices, so the next sign-in on each asks
// the second step again, and the sign-ins waiting for their second step, which were begun
// with a password or a state of the account that no longer holds.
func forgetBrowsers(ctx context.Context, tx *sql.Tx, userID int64) error {
	for _, table := range []string{"remembered_devices", "login_challenges"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = $1`, userID); err != nil {
			return err
		}
	}
	return nil
}

// CreateLoginChallenge stores c and sets c.ID (and c.CreatedAt if left zero). The user must be
// on c.Site; a token hash in use already is ECONFLICT.
func (s *Store) CreateLoginChallenge(ctx context.Context, c *hmisauth.LoginChallenge) (err error) {
	defer wrap(&err, "create login challenge")
	if c.CreatedAt.IsZero() {
		c.CreatedAt = sqlstore.Now()
	}
	return s.exec(ctx, func(w dbtx) error {
		err := w.QueryRowContext(ctx, `
			INSERT INTO login_challenges (site, user_id, token_hash, created_at, expires_at,
				client_addr, user_agent, webauthn)
			SELECT site, id, $1, $2, $3, $4, $5, $6 FROM users WHERE id = $7 AND site = $8
			RETURNING id`,
			c.TokenHash, timeArg(c.CreatedAt), timeArg(c.ExpiresAt), c.ClientAddr, c.UserAgent, c.WebAuthn,
			c.UserID, c.Site,
		).Scan(&c.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.NoUser()
		}
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That sign-in token is already in use.")
		}
		return err
	})
}

// LoginChallenge finds a challenge by its token hash that expires after now.
func (s *Store) LoginChallenge(ctx context.Context, tokenHash []byte, now time.Time) (_ *hmisauth.LoginChallenge, err error) {
	defer wrap(&err, "login challenge")
	c := new(hmisauth.LoginChallenge)
	err = s.db.QueryRowContext(ctx, `
		SELECT id, site, user_id, token_hash, created_at, expires_at, client_addr, user_agent, webauthn
		FROM login_challenges WHERE token_hash = $1 AND expires_at > $2`, tokenHash, timeArg(now)).Scan(
		&c.ID, &c.Site, &c.UserID, &c.TokenHash, timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt},
		&c.ClientAddr, &c.UserAgent, &c.WebAuthn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoChallenge()
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SetChallengeWebAuthn stores the passkey assertion data begun for challenge id.
func (s *Store) SetChallengeWebAuthn(ctx context.Context, id int64, data []byte) (err error) {
	defer wrap(&err, "set challenge webauthn")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.ChallengeChanged(w.ExecContext(ctx,
			`UPDATE login_challenges SET webauthn = $1 WHERE id = $2`, data, id))
	})
}

// EndLoginChallenge removes the challenge by one delete: of parallel completions only the
// first removes the row and sees true (the others wait for its row lock, then find the row
// gone, at any process). One that finds it gone appends no event.
func (s *Store) EndLoginChallenge(ctx context.Context, id int64) (_ bool, err error) {
	defer wrap(&err, "end login challenge")
	return s.once(ctx, nil, `DELETE FROM login_challenges WHERE id = $1`, id)
}
