package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// SecondFactors returns what the user has set up for 2-step verification, read in one
// transaction so the app, the codes and the passkeys are of one moment. A user with nothing set
// up, or no such user, has an empty set.
func (s *Store) SecondFactors(ctx context.Context, userID int64) (_ *hmisauth.SecondFactors, err error) {
	defer wrap(&err, "second factors")
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // read only: nothing to keep

	f := new(hmisauth.SecondFactors)
	t := new(hmisauth.TOTP)
	err = tx.QueryRowContext(ctx, `
		SELECT user_id, secret, confirmed_at, last_step, pending, pending_at FROM totp WHERE user_id = ?`,
		userID).Scan(&t.UserID, &t.Secret, timeCol{&t.ConfirmedAt}, &t.LastStep, &t.Pending, timeCol{&t.PendingAt})
	switch {
	case err == nil:
		f.TOTP = t
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID,
	).Scan(&f.RecoveryCodesLeft); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, user_id, credential_id, name, credential, created_at, last_used_at
		FROM passkeys WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p := new(hmisauth.Passkey)
		if err := rows.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.Name, &p.Credential,
			timeCol{&p.CreatedAt}, timeCol{&p.LastUsedAt}); err != nil {
			return nil, err
		}
		f.Passkeys = append(f.Passkeys, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// StartTOTP stores sealed as the user's pending enrolment, replacing an earlier pending one;
// the secret in use, if any, stays until ConfirmTOTP.
func (s *Store) StartTOTP(ctx context.Context, userID int64, sealed []byte, at time.Time) (err error) {
	defer wrap(&err, "start totp")
	if len(sealed) == 0 {
		return errors.New("no sealed secret")
	}
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.UserChanged(w.ExecContext(ctx, `
			INSERT INTO totp (user_id, pending, pending_at) SELECT id, ?, ? FROM users WHERE id = ?
			ON CONFLICT (user_id) DO UPDATE SET pending = excluded.pending, pending_at = excluded.pending_at`,
			sealed, micros(at), userID))
	})
}

// ConfirmTOTP makes the pending secret the one in use, replaces the recovery codes and queues
// m, in one transaction. The pending secret must still be sealed: confirming an enrolment that
// a newer one replaced, or confirming twice, is ENOTFOUND and changes and queues nothing.
func (s *Store) ConfirmTOTP(ctx context.Context, userID int64, sealed []byte, step int64, at time.Time, codeHashes [][]byte, m *hmisauth.Message) (err error) {
	defer wrap(&err, "confirm totp")
	return s.write(ctx, func(tx *sql.Tx) error {
		err := sqlstore.EnrolmentChanged(tx.ExecContext(ctx, `
			UPDATE totp SET secret = pending, confirmed_at = ?, last_step = ?, pending = NULL, pending_at = NULL
			WHERE user_id = ? AND pending = ?`,
			micros(at), step, userID, sealed))
		if err != nil {
			return err
		}
		if err := replaceCodes(ctx, tx, userID, codeHashes, at); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}

// UseTOTPStep accepts a code of time step step once, by one conditional update: of parallel
// uses only the first to get the write lock finds last_step older and raises it. A user
// without an app in use accepts no step (false); no such user is ENOTFOUND. A refused step
// changes nothing and appends no event.
func (s *Store) UseTOTPStep(ctx context.Context, userID int64, step int64) (_ bool, err error) {
	defer wrap(&err, "use totp step")
	return s.once(ctx, func(q queryer) error { return userExists(ctx, q, userID) }, `
		UPDATE totp SET last_step = ?1 WHERE user_id = ?2 AND secret IS NOT NULL AND last_step < ?1`,
		step, userID)
}

// DisableTOTP removes the authenticator app (and any pending enrolment); without a passkey
// left the recovery codes and remembered devices go too; m is queued. One transaction, so a
// removal keepOne refuses queues nothing.
func (s *Store) DisableTOTP(ctx context.Context, userID int64, keepOne bool, m *hmisauth.Message) (err error) {
	defer wrap(&err, "disable totp")
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp WHERE user_id = ?`, userID); err != nil {
			return err
		}
		if err := afterRemoval(ctx, tx, userID, keepOne); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}

// afterRemoval finishes removing a second factor: with keepOne, a removal that left none is
// refused (the transaction rolls back); otherwise what stands in for a factor goes with the
// last one.
func afterRemoval(ctx context.Context, tx *sql.Tx, userID int64, keepOne bool) error {
	if keepOne {
		var left bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?1)
			OR EXISTS (SELECT 1 FROM totp WHERE user_id = ?1 AND secret IS NOT NULL)`, userID).Scan(&left)
		if err != nil {
			return err
		}
		if !left {
			return hmisauth.Errorf(hmisauth.EFORBIDDEN, "That is the account's last second factor, and it must keep one.")
		}
	}
	return forgetIfNoFactor(ctx, tx, userID)
}

// forgetIfNoFactor removes the user's recovery codes and remembered devices when no second
// factor is left (no app in use, no passkey): they stand in for one, and must not outlive 2-step
// verification to work again, unasked, when it is next turned on.
func forgetIfNoFactor(ctx context.Context, tx *sql.Tx, userID int64) error {
	const none = `user_id = ?1 AND NOT EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?1)
		AND NOT EXISTS (SELECT 1 FROM totp WHERE user_id = ?1 AND secret IS NOT NULL)`
	for _, table := range []string{"recovery_codes", "remembered_devices"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+none, userID); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceRecoveryCodes replaces the user's recovery codes with hashes and queues m, in one
// transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time, m *hmisauth.Message) (err error) {
	defer wrap(&err, "replace recovery codes")
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		if err := replaceCodes(ctx, tx, userID, hashes, at); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}

// replaceCodes deletes the user's recovery codes, used ones included, and inserts hashes.
func replaceCodes(ctx context.Context, tx *sql.Tx, userID int64, hashes [][]byte, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`,
			userID, h, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode spends the user's unused code with this hash by one conditional update (of
// parallel uses of one code only the first changes a row), and counts the unused codes left
// in the same transaction. A code that is wrong or spent changes nothing and appends no
// event; no such user is ENOTFOUND.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) (ok bool, left int, err error) {
	defer wrap(&err, "use recovery code")
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE recovery_codes SET used_at = ?1
			WHERE used_at IS NULL AND id = (SELECT id FROM recovery_codes
				WHERE user_id = ?2 AND code_hash = ?3 AND used_at IS NULL ORDER BY id LIMIT 1)`,
			micros(at), userID, hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID,
		).Scan(&left); err != nil {
			return err
		}
		if n == 0 {
			if err := userExists(ctx, tx, userID); err != nil {
				return err
			}
			return errUnchanged
		}
		ok = true
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		return false, left, nil
	case err != nil:
		return false, 0, err
	}
	return ok, left, nil
}

// AddPasskey stores p for its user, sets p.ID (and p.CreatedAt if left zero) and queues m, in
// one transaction. A credential ID registered already, to this user or another, is ECONFLICT.
func (s *Store) AddPasskey(ctx context.Context, p *hmisauth.Passkey, codeHashes [][]byte, m *hmisauth.Message) (err error) {
	defer wrap(&err, "add passkey")
	if p.CreatedAt.IsZero() {
		p.CreatedAt = sqlstore.Now()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO passkeys (user_id, credential_id, name, credential, created_at, last_used_at)
			SELECT id, ?, ?, ?, ?, ? FROM users WHERE id = ?
			RETURNING id`,
			p.CredentialID, p.Name, p.Credential, micros(p.CreatedAt), micros(p.LastUsedAt), p.UserID,
		).Scan(&p.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.NoUser()
		}
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "That passkey is already registered.")
		}
		if err != nil {
			return err
		}
		if codeHashes != nil {
			if err := replaceCodes(ctx, tx, p.UserID, codeHashes, p.CreatedAt); err != nil {
				return err
			}
		}
		return enqueue(ctx, tx, m)
	})
}

// PasskeyUsed records a sign-in with the passkey: its updated credential record and the time.
func (s *Store) PasskeyUsed(ctx context.Context, id int64, credential []byte, at time.Time) (err error) {
	defer wrap(&err, "passkey used")
	return s.exec(ctx, func(w dbtx) error {
		return sqlstore.PasskeyChanged(w.ExecContext(ctx,
			`UPDATE passkeys SET credential = ?, last_used_at = ? WHERE id = ?`, credential, micros(at), id))
	})
}

// DeletePasskey removes the user's passkey id; the user is part of the condition, so another
// user's passkey is ENOTFOUND. Without a second factor left the recovery codes and remembered
// devices go too, and m is queued, in the same transaction.
func (s *Store) DeletePasskey(ctx context.Context, userID, id int64, keepOne bool, m *hmisauth.Message) (err error) {
	defer wrap(&err, "delete passkey")
	return s.write(ctx, func(tx *sql.Tx) error {
		err := sqlstore.PasskeyChanged(tx.ExecContext(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID))
		if err != nil {
			return err
		}
		if err := afterRemoval(ctx, tx, userID, keepOne); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}

// ResetSecondFactors removes the user's app, recovery codes, passkeys and remembered devices,
// ends all their sessions (reason EndedByHelpdesk) and queues m, in one transaction: whoever
// held the phone or the key is out, the user hears of it, and sets up 2-step verification
// afresh.
func (s *Store) ResetSecondFactors(ctx context.Context, userID int64, at time.Time, m *hmisauth.Message) (err error) {
	defer wrap(&err, "reset second factors")
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		for _, table := range []string{"totp", "recovery_codes", "passkeys", "remembered_devices", "login_challenges"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = ?`, userID); err != nil {
				return err
			}
		}
		if _, err := endSessions(ctx, tx, hmisauth.EndedByHelpdesk, at, `user_id = ?`, userID); err != nil {
			return err
		}
		return enqueue(ctx, tx, m)
	})
}
