package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// Users lists a site's users matching q, ordered by username key, with their lockout state.
// The (site, username_key) unique index serves the site, the paging and the order; the other
// filters are checked on the rows it yields, up to the limit.
func (s *Store) Users(ctx context.Context, q hmisauth.UserQuery) (_ []*hmisauth.User, err error) {
	defer wrap(&err, "users")
	if q.Site == "" {
		return nil, hmisauth.FieldError("site", "Site is required.")
	}
	where := []string{"u.site = ?"}
	args := []any{q.Site}
	if text := q.Text; text != "" {
		// LIKE folds ASCII case; the pattern is lower-cased in Go, as username_key is, so a
		// username matches whatever the case of either. The caller's % and _ are literal.
		p := "%" + sqlstore.EscapeLike(strings.ToLower(text)) + "%"
		where = append(where, `(u.username_key LIKE ? ESCAPE '\' OR u.first_name LIKE ? ESCAPE '\'
			OR u.last_name LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p, p)
	}
	if q.AgencyID != 0 {
		where = append(where, "u.agency_id = ?")
		args = append(args, q.AgencyID)
	}
	if q.Locked {
		where = append(where, "l.locked_at IS NOT NULL")
	}
	if q.Disabled {
		where = append(where, "u.disabled = 1")
	}
	if q.NoEmail {
		where = append(where, "u.email = ''")
	}
	if after := hmisauth.UsernameKey(q.After); after != "" {
		where = append(where, "u.username_key > ?")
		args = append(args, after)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sqlstore.DefaultUsers
	}
	args = append(args, min(limit, sqlstore.MaxUsers))
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY u.username_key LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateUsers inserts all of us in one transaction, each exactly as CreateUser would (seat
// check, username clash, stale lockout cleared); a seat check counts the rows inserted before
// it in the same call. The first user that fails rolls the whole call back: its error comes
// back with Field "row N" (N counting from 1), and every u.ID and u.Subject is put back as it
// was (the
// defaults filled in, role and creation time, stay, as CreateUser leaves them). The events
// ctx carries are appended once, with the inserts.
func (s *Store) CreateUsers(ctx context.Context, us []*hmisauth.User) (err error) {
	defer wrap(&err, "create users")
	ids := make([]int64, len(us))
	subjects := make([]string, len(us))
	for i, u := range us {
		if u != nil {
			ids[i], subjects[i] = u.ID, u.Subject
		}
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		for i, u := range us {
			if err := createRow(ctx, tx, u); err != nil {
				return sqlstore.RowError(i, err)
			}
		}
		return nil
	})
	if err != nil {
		// Nothing was written: the IDs and subjects the rolled-back inserts handed out mean
		// nothing.
		for i, u := range us {
			if u != nil {
				u.ID, u.Subject = ids[i], subjects[i]
			}
		}
	}
	return err
}

// createRow is one user of CreateUsers.
func createRow(ctx context.Context, tx *sql.Tx, u *hmisauth.User) error {
	if u == nil {
		return hmisauth.Errorf(hmisauth.EINVALID, "No user given.")
	}
	key, err := sqlstore.PrepareUser(u)
	if err != nil {
		return err
	}
	return insertUser(ctx, tx, u, key)
}
