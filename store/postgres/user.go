package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// CreateUser inserts u and sets u.ID (and u.CreatedAt if the caller left it zero, and
// u.Subject, 128 random bits in lower-case hex, if it was ""). The seat check, the insert and
// the clearing of stale lockout state are one transaction under the write lock, so parallel
// creations, at any process, can neither overfill an agency nor inherit guesses made at the
// name beforehand.
func (s *Store) CreateUser(ctx context.Context, u *hmisauth.User) (err error) {
	defer wrap(&err, "create user")
	key, err := sqlstore.PrepareUser(u)
	if err != nil {
		return err
	}
	id, subject := u.ID, u.Subject
	err = s.write(ctx, func(tx *sql.Tx) error {
		u.ID, u.Subject = id, subject // a retried transaction starts afresh
		return insertUser(ctx, tx, u, key)
	})
	if err != nil {
		u.ID, u.Subject = id, subject
	}
	return err
}

// insertUser is CreateUser's work inside tx: the seat check (counting the users tx has
// inserted already), the insert, which sets u.ID and u.Subject, and the clearing of stale
// lockout state. A clash on a unique key inserts nothing (ON CONFLICT DO NOTHING) rather than
// failing the statement, which would abort the whole PostgreSQL transaction: whyTaken then
// reads in it which key clashed.
func insertUser(ctx context.Context, tx *sql.Tx, u *hmisauth.User, key string) error {
	if u.AgencyID != 0 && !u.Disabled {
		if err := checkSeat(ctx, tx, u.Site, u.AgencyID); err != nil {
			return err
		}
	}
	subject := u.Subject
	if subject == "" {
		var err error
		if subject, err = newSubject(); err != nil {
			return err
		}
	}
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO users (site, username, username_key, first_name, last_name, email, phone,
			agency_id, role, created_at, disabled, disabled_at,
			password_hash, password_changed_at, password_temporary, temporary_used_at,
			must_change_password, terms_version, terms_accepted_at, last_login_at,
			agreement_signed_on, agreement_supervisor_signed_on, agreement_director_signed_on,
			agreement_expires_on, recovery_question, recovery_answer_hash, subject)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
		ON CONFLICT DO NOTHING
		RETURNING id`,
		u.Site, u.Username, key, u.FirstName, u.LastName, u.Email, u.Phone,
		sqlstore.IDArg(u.AgencyID), string(u.Role), timeArg(u.CreatedAt), u.Disabled, timeArg(u.DisabledAt),
		u.PasswordHash, timeArg(u.PasswordChangedAt), u.PasswordTemporary, timeArg(u.TemporaryUsedAt),
		u.MustChangePassword, u.TermsVersion, timeArg(u.TermsAcceptedAt), timeArg(u.LastLoginAt),
		dateArg(u.AgreementSignedOn), dateArg(u.AgreementSupervisorSignedOn),
		dateArg(u.AgreementDirectorSignedOn), dateArg(u.AgreementExpiresOn),
		u.RecoveryQuestion, u.RecoveryAnswerHash, subject,
	).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return whyTaken(ctx, tx, u, key)
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM lockouts WHERE site = $1 AND username_key = $2`, u.Site, key); err != nil {
		return err
	}
	u.ID, u.Subject = id, subject
	return nil
}

// newSubject makes an OpenID Connect subject: 128 random bits in lower-case hex, as the
// SQLite store makes them.
func newSubject() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// whyTaken tells which unique key of users an insert clashed on: the username, or the subject
// the caller gave (a generated one is 128 random bits).
func whyTaken(ctx context.Context, tx *sql.Tx, u *hmisauth.User, key string) error {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE site = $1 AND username_key = $2)`,
		u.Site, key).Scan(&taken)
	switch {
	case err != nil:
		return err
	case taken:
		return hmisauth.Errorf(hmisauth.ECONFLICT, "The username %s is already taken on this site.", u.Username)
	}
	return &hmisauth.Error{Code: hmisauth.ECONFLICT, Field: "subject",
		Message: "That OpenID Connect subject is already another account's on this site."}
}

// checkSeat refuses when the agency (which must be on the site) has seats and all are taken.
func checkSeat(ctx context.Context, tx *sql.Tx, site string, agencyID int64) error {
	var name string
	var seats, used int
	err := tx.QueryRowContext(ctx, `
		SELECT name, seats, (SELECT count(*) FROM users WHERE agency_id = a.id AND NOT disabled)
		FROM agencies a WHERE id = $1 AND site = $2`, agencyID, site).Scan(&name, &seats, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.NoAgency()
	}
	if err != nil {
		return err
	}
	if seats > 0 && used >= seats {
		return hmisauth.Errorf(hmisauth.ESeatsFull,
			"Agency %s has no free seats (%d of %d used). Free a seat or raise the agency's seats.",
			name, used, seats)
	}
	return nil
}

// userColumns selects a user with its lockout state and whether it has a second factor (each
// an indexed lookup by user, so listing a thousand users costs a thousand index probes): the
// list userFields from userFrom, apart so that SessionAndUser can join the session's columns.
const userColumns = userFields + `
	` + userFrom

const userFields = `
	u.id, u.site, u.username, u.first_name, u.last_name, u.email, u.phone, u.agency_id, u.role,
	u.created_at, u.disabled, u.disabled_at,
	u.password_hash, u.password_changed_at, u.password_temporary, u.temporary_used_at,
	u.must_change_password, u.terms_version, u.terms_accepted_at, u.last_login_at,
	u.agreement_signed_on, u.agreement_supervisor_signed_on, u.agreement_director_signed_on,
	u.agreement_expires_on, u.recovery_question, u.recovery_answer_hash, coalesce(u.subject, ''),
	u.security_officer,
	EXISTS (SELECT 1 FROM totp t WHERE t.user_id = u.id AND t.secret IS NOT NULL)
		OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id),
	coalesce(l.failed_attempts, 0), l.last_failed_at, l.locked_at`

const userFrom = `FROM users u LEFT JOIN lockouts l ON l.site = u.site AND l.username_key = u.username_key`

func scanUser(row scanner) (*hmisauth.User, error) {
	u := new(hmisauth.User)
	var agency sql.NullInt64
	var role string
	err := row.Scan(
		&u.ID, &u.Site, &u.Username, &u.FirstName, &u.LastName, &u.Email, &u.Phone, &agency, &role,
		timeCol{&u.CreatedAt}, &u.Disabled, timeCol{&u.DisabledAt},
		&u.PasswordHash, timeCol{&u.PasswordChangedAt}, &u.PasswordTemporary, timeCol{&u.TemporaryUsedAt},
		&u.MustChangePassword, &u.TermsVersion, timeCol{&u.TermsAcceptedAt}, timeCol{&u.LastLoginAt},
		dateCol{&u.AgreementSignedOn}, dateCol{&u.AgreementSupervisorSignedOn},
		dateCol{&u.AgreementDirectorSignedOn}, dateCol{&u.AgreementExpiresOn},
		&u.RecoveryQuestion, &u.RecoveryAnswerHash, &u.Subject, &u.SecurityOfficer, &u.MFAEnabled,
		&u.FailedAttempts, timeCol{&u.LastFailedAt}, timeCol{&u.LockedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoUser()
	}
	if err != nil {
		return nil, err
	}
	u.AgencyID = agency.Int64
	u.Role = hmisauth.Role(role)
	return u, nil
}

// User finds an account by username, case-insensitively, with its lockout state.
func (s *Store) User(ctx context.Context, site, username string) (_ *hmisauth.User, err error) {
	defer wrap(&err, "user")
	return scanUser(s.readRow(ctx,
		`SELECT `+userColumns+` WHERE u.site = $1 AND u.username_key = $2`, site, hmisauth.UsernameKey(username)))
}

// UserByID finds an account by ID, with its lockout state.
func (s *Store) UserByID(ctx context.Context, id int64) (_ *hmisauth.User, err error) {
	defer wrap(&err, "user by id")
	return scanUser(s.readRow(ctx, `SELECT `+userColumns+` WHERE u.id = $1`, id))
}

// UserBySubject finds an account by its OpenID Connect sub on a site (the (site, subject)
// unique index).
func (s *Store) UserBySubject(ctx context.Context, site, subject string) (_ *hmisauth.User, err error) {
	defer wrap(&err, "user by subject")
	if subject == "" {
		return nil, sqlstore.NoUser()
	}
	return scanUser(s.readRow(ctx, `SELECT `+userColumns+` WHERE u.site = $1 AND u.subject = $2`, site, subject))
}

// UpdateUserProfile saves names, e-mail, phone, agency and role. The agency must be on the
// user's site.
func (s *Store) UpdateUserProfile(ctx context.Context, u *hmisauth.User) (err error) {
	defer wrap(&err, "update user profile")
	role := u.Role
	if role == "" {
		role = hmisauth.RoleUser
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var site string
		err := tx.QueryRowContext(ctx, `SELECT site FROM users WHERE id = $1`, u.ID).Scan(&site)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.NoUser()
		}
		if err != nil {
			return err
		}
		if u.AgencyID != 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM agencies WHERE id = $1 AND site = $2`,
				u.AgencyID, site).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return sqlstore.NoAgency()
			}
			if err != nil {
				return fmt.Errorf("check agency: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE users SET first_name = $1, last_name = $2, email = $3, phone = $4, agency_id = $5, role = $6,
				-- An officer is one of their agency's admins: a new role or agency ends it.
				security_officer = (security_officer AND $6 = 'agency_admin' AND agency_id IS NOT DISTINCT FROM $5)
			WHERE id = $7`,
			u.FirstName, u.LastName, u.Email, u.Phone, sqlstore.IDArg(u.AgencyID), string(role), u.ID)
		return err
	})
}

// SysadminCount counts a site's sysadmins, disabled ones included: a disabled sysadmin is
// still one, and first start must not mint a new one behind the site's back.
func (s *Store) SysadminCount(ctx context.Context, site string) (n int, err error) {
	defer wrap(&err, "sysadmin count")
	err = s.db.QueryRowContext(ctx,
		`SELECT count(*) FROM users WHERE site = $1 AND role = $2`, site, string(hmisauth.RoleSysadmin)).Scan(&n)
	return n, err
}
