package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// SigningKeys lists a site's signing keys, oldest UseFrom first.
func (s *Store) SigningKeys(ctx context.Context, site string) (_ []*hmisauth.SigningKey, err error) {
	defer wrap(&err, "signing keys")
	rows, err := s.db.QueryContext(ctx, `
		SELECT site, id, algorithm, private, public, use_from, created_at
		FROM oidc_signing_keys WHERE site = $1 ORDER BY use_from`, site)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.SigningKey
	for rows.Next() {
		k := new(hmisauth.SigningKey)
		if err := rows.Scan(&k.Site, &k.ID, &k.Algorithm, &k.Private, &k.Public, timeCol{&k.UseFrom},
			timeCol{&k.CreatedAt}); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddSigningKey stores k unless the site has a key with UseFrom at or after k.UseFrom, in one
// conditional insert under the write lock (always taken, events or not: a key is added once a
// rotation period): of processes adding the next key at once, the first to get the write lock
// stores it and the others find it there. ON CONFLICT on (site, use_from) also makes a key
// moved to that time by UseSigningKeyFrom (which runs without the lock) meanwhile a "not
// newer" rather than an error. It stamps k.CreatedAt if left zero. A key ID the site has
// already is ECONFLICT.
func (s *Store) AddSigningKey(ctx context.Context, k *hmisauth.SigningKey) (added bool, err error) {
	defer wrap(&err, "add signing key")
	switch {
	case k.ID == "":
		return false, hmisauth.FieldError("id", "A signing key needs an ID.")
	case k.UseFrom.IsZero():
		return false, hmisauth.FieldError("use_from", "A signing key needs the time it signs from.")
	}
	created := k.CreatedAt
	if k.CreatedAt.IsZero() {
		k.CreatedAt = sqlstore.Now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		added = false
		res, err := tx.ExecContext(ctx, `
			INSERT INTO oidc_signing_keys (site, id, algorithm, private, public, use_from, created_at)
			SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM oidc_signing_keys WHERE site = $1 AND use_from >= $6)
			ON CONFLICT (site, use_from) DO NOTHING`,
			k.Site, k.ID, k.Algorithm, k.Private, k.Public, timeArg(k.UseFrom), timeArg(k.CreatedAt))
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "The site has a signing key %s already.", k.ID)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			return errUnchanged
		}
		added = err == nil
		return err
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	if !added || err != nil {
		k.CreatedAt = created
	}
	return added && err == nil, err
}

// UseSigningKeyFrom moves the UseFrom of the site's key id. Another key of the site with that
// UseFrom already is ECONFLICT.
func (s *Store) UseSigningKeyFrom(ctx context.Context, site, id string, from time.Time) (err error) {
	defer wrap(&err, "use signing key from")
	if from.IsZero() {
		return hmisauth.FieldError("use_from", "A signing key needs the time it signs from.")
	}
	return s.exec(ctx, func(w dbtx) error {
		res, err := w.ExecContext(ctx, `UPDATE oidc_signing_keys SET use_from = $1 WHERE site = $2 AND id = $3`,
			timeArg(from), site, id)
		if isUnique(err) {
			return hmisauth.Errorf(hmisauth.ECONFLICT, "Another signing key of the site starts at that time.")
		}
		return sqlstore.Changed(res, err, sqlstore.NoSigningKey)
	})
}

// DeleteSigningKeys removes the site's keys whose UseFrom is before before, except the newest
// of them, in one statement; the events ctx carries are appended only when it removed one.
func (s *Store) DeleteSigningKeys(ctx context.Context, site string, before time.Time) (err error) {
	defer wrap(&err, "delete signing keys")
	_, err = s.once(ctx, nil, `
		DELETE FROM oidc_signing_keys WHERE site = $1 AND use_from < $2
			AND use_from < (SELECT max(use_from) FROM oidc_signing_keys WHERE site = $1 AND use_from < $2)`,
		site, timeArg(before))
	return err
}
