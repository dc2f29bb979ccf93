package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// SyncSite records a configured site, creating or renaming it.
func (s *Store) SyncSite(ctx context.Context, site *hmisauth.Site) (err error) {
	defer wrap(&err, "sync site")
	return s.exec(ctx, func(w dbtx) error {
		_, err := w.ExecContext(ctx, `
			INSERT INTO sites (key, name) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET name = excluded.name`, site.Key, site.Name)
		return err
	})
}

// CreateAgency inserts a, setting a.ID and, if the caller left it zero, a.CreatedAt.
func (s *Store) CreateAgency(ctx context.Context, a *hmisauth.Agency) (err error) {
	defer wrap(&err, "create agency")
	if a.CreatedAt.IsZero() {
		a.CreatedAt = sqlstore.Now()
	}
	return s.exec(ctx, func(w dbtx) error {
		err := w.QueryRowContext(ctx, `
			INSERT INTO agencies (site, name, name_key, seats, license_starts, license_expires, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.Site, a.Name, sqlstore.NameKey(a.Name), a.Seats, dateArg(a.LicenseStarts), dateArg(a.LicenseExpires),
			micros(a.CreatedAt)).Scan(&a.ID)
		if isUnique(err) {
			return sqlstore.AgencyTaken(a.Name)
		}
		return err
	})
}

// UpdateAgency saves a's name, seats and license dates. The agency is found by ID within
// a.Site, so one site's administrator cannot reach another site's agency by number.
func (s *Store) UpdateAgency(ctx context.Context, a *hmisauth.Agency) (err error) {
	defer wrap(&err, "update agency")
	return s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `
			UPDATE agencies SET name = ?, name_key = ?, seats = ?, license_starts = ?, license_expires = ?
			WHERE id = ? AND site = ?`,
			a.Name, sqlstore.NameKey(a.Name), a.Seats, dateArg(a.LicenseStarts), dateArg(a.LicenseExpires), a.ID, a.Site)
		if isUnique(err) {
			return sqlstore.AgencyTaken(a.Name)
		}
		return sqlstore.Changed(res, err, sqlstore.NoAgency)
	})
}

const agencyColumns = `id, site, name, seats, license_starts, license_expires, created_at`

func scanAgency(row interface{ Scan(...any) error }) (*hmisauth.Agency, error) {
	a := new(hmisauth.Agency)
	err := row.Scan(&a.ID, &a.Site, &a.Name, &a.Seats,
		dateCol{&a.LicenseStarts}, dateCol{&a.LicenseExpires}, timeCol{&a.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoAgency()
	}
	return a, err
}

// Agency finds an agency of the site by ID.
func (s *Store) Agency(ctx context.Context, site string, id int64) (_ *hmisauth.Agency, err error) {
	defer wrap(&err, "agency")
	return scanAgency(s.r.QueryRowContext(ctx,
		`SELECT `+agencyColumns+` FROM agencies WHERE id = ? AND site = ?`, id, site))
}

// AgencyByName finds an agency of the site by name, case-insensitively.
func (s *Store) AgencyByName(ctx context.Context, site, name string) (_ *hmisauth.Agency, err error) {
	defer wrap(&err, "agency by name")
	return scanAgency(s.r.QueryRowContext(ctx,
		`SELECT `+agencyColumns+` FROM agencies WHERE site = ? AND name_key = ?`, site, sqlstore.NameKey(name)))
}

// Agencies lists the site's agencies by name.
func (s *Store) Agencies(ctx context.Context, site string) (_ []*hmisauth.Agency, err error) {
	defer wrap(&err, "agencies")
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+agencyColumns+` FROM agencies WHERE site = ? ORDER BY name_key, id`, site)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*hmisauth.Agency
	for rows.Next() {
		a, err := scanAgency(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	return list, rows.Err()
}

// AgencyUserCount counts the agency's users that are not disabled (seats in use).
func (s *Store) AgencyUserCount(ctx context.Context, agencyID int64) (n int, err error) {
	defer wrap(&err, "agency user count")
	err = s.r.QueryRowContext(ctx,
		`SELECT count(*) FROM users WHERE agency_id = ? AND disabled = 0`, agencyID).Scan(&n)
	return n, err
}
