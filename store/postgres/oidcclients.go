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

// clientTaken names what a refused insert or update of c clashed with: its client ID (the
// primary key) or its name (name_key); any other error passes on. PostgreSQL names the
// constraint that was broken: oidc_clients_pkey, or oidc_clients_site_name_key_key for
// UNIQUE (site, name_key).
func clientTaken(c *hmisauth.Client, err error) error {
	switch uniqueConstraint(err) {
	case "oidc_clients_pkey":
		return hmisauth.Errorf(hmisauth.ECONFLICT, "This site already has an application with client ID %s.", c.ID)
	case "oidc_clients_site_name_key_key":
		return &hmisauth.Error{Code: hmisauth.ECONFLICT, Field: "name",
			Message: fmt.Sprintf("This site already has an application named %s: choose another name, or open that one from the list of applications.", c.Name)}
	}
	return err
}

// CreateClient inserts c (and stamps c.CreatedAt if the caller left it zero); a client ID or
// a name (compared as sqlstore.NameKey) the site has already is ECONFLICT.
func (s *Store) CreateClient(ctx context.Context, c *hmisauth.Client) (err error) {
	defer wrap(&err, "create client")
	if c.ID == "" {
		return hmisauth.FieldError("client_id", "Client ID is required.")
	}
	created := c.CreatedAt
	if c.CreatedAt.IsZero() {
		c.CreatedAt = sqlstore.Now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO oidc_clients (site, id, name, name_key, home_url, redirect_uris, post_logout_redirect_uris,
				backchannel_logout_uri, public, secret_hash, old_secret_hash, scopes, access_token_format,
				access_token_lifetime_ns, refresh_tokens, from_config, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			c.Site, c.ID, c.Name, sqlstore.NameKey(c.Name), c.HomeURL,
			sqlstore.ListArg(c.RedirectURIs), sqlstore.ListArg(c.PostLogoutRedirectURIs),
			c.BackchannelLogoutURI, c.Public, c.SecretHash, c.OldSecretHash, sqlstore.ListArg(c.Scopes),
			c.AccessTokenFormat, int64(c.AccessTokenLifetime), c.RefreshTokens, c.FromConfig,
			timeArg(c.CreatedAt), timeArg(c.UpdatedAt))
		return clientTaken(c, err)
	})
	if err != nil {
		c.CreatedAt = created
	}
	return err
}

// UpdateClient saves every field of c but its ID, site and CreatedAt, stamping c.UpdatedAt if
// the caller left it zero.
func (s *Store) UpdateClient(ctx context.Context, c *hmisauth.Client) (err error) {
	defer wrap(&err, "update client")
	updated := c.UpdatedAt
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = sqlstore.Now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		return clientTaken(c, sqlstore.ClientChanged(tx.ExecContext(ctx, `
			UPDATE oidc_clients SET name = $1, name_key = $2, home_url = $3, redirect_uris = $4, post_logout_redirect_uris = $5,
				backchannel_logout_uri = $6, public = $7, secret_hash = $8, old_secret_hash = $9, scopes = $10,
				access_token_format = $11, access_token_lifetime_ns = $12, refresh_tokens = $13, from_config = $14,
				updated_at = $15
			WHERE site = $16 AND id = $17`,
			c.Name, sqlstore.NameKey(c.Name), c.HomeURL,
			sqlstore.ListArg(c.RedirectURIs), sqlstore.ListArg(c.PostLogoutRedirectURIs),
			c.BackchannelLogoutURI, c.Public, c.SecretHash, c.OldSecretHash, sqlstore.ListArg(c.Scopes),
			c.AccessTokenFormat, int64(c.AccessTokenLifetime), c.RefreshTokens, c.FromConfig,
			timeArg(c.UpdatedAt), c.Site, c.ID)))
	})
	if err != nil {
		c.UpdatedAt = updated
	}
	return err
}

// DeleteClient removes the client in one transaction: its tokens, found through the sessions
// that signed in to it, then the client, whose authorization requests and session links go
// with it (ON DELETE CASCADE). Logout notices already owed to it stay: they record what was
// owed, and carry what their delivery needs.
func (s *Store) DeleteClient(ctx context.Context, site, id string) (err error) {
	defer wrap(&err, "delete client")
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"oidc_access_tokens", "oidc_refresh_tokens"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE site = $1 AND client_id = $2
				AND session_id IN (SELECT session_id FROM oidc_session_clients WHERE site = $1 AND client_id = $2)`,
				site, id); err != nil {
				return err
			}
		}
		return sqlstore.ClientChanged(tx.ExecContext(ctx, `DELETE FROM oidc_clients WHERE site = $1 AND id = $2`, site, id))
	})
}

const clientColumns = `site, id, name, home_url, redirect_uris, post_logout_redirect_uris,
	backchannel_logout_uri, public, secret_hash, old_secret_hash, scopes, access_token_format,
	access_token_lifetime_ns, refresh_tokens, from_config, created_at, updated_at FROM oidc_clients`

func scanClient(row scanner) (*hmisauth.Client, error) {
	c := new(hmisauth.Client)
	var lifetime int64
	err := row.Scan(&c.Site, &c.ID, &c.Name, &c.HomeURL, sqlstore.ScanList(&c.RedirectURIs),
		sqlstore.ScanList(&c.PostLogoutRedirectURIs), &c.BackchannelLogoutURI, &c.Public, &c.SecretHash,
		&c.OldSecretHash, sqlstore.ScanList(&c.Scopes), &c.AccessTokenFormat, &lifetime, &c.RefreshTokens,
		&c.FromConfig, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.NoClient()
	}
	if err != nil {
		return nil, err
	}
	c.AccessTokenLifetime = time.Duration(lifetime)
	return c, nil
}

// Client finds a site's client by ID.
func (s *Store) Client(ctx context.Context, site, id string) (_ *hmisauth.Client, err error) {
	defer wrap(&err, "client")
	return scanClient(s.readRow(ctx, `SELECT `+clientColumns+` WHERE site = $1 AND id = $2`, site, id))
}

// Clients lists a site's clients by name (then client ID), in byte order (COLLATE "C") as
// SQLite sorts, whatever the database's collation.
func (s *Store) Clients(ctx context.Context, site string) (_ []*hmisauth.Client, err error) {
	defer wrap(&err, "clients")
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+clientColumns+` WHERE site = $1 ORDER BY name COLLATE "C", id COLLATE "C"`, site)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
