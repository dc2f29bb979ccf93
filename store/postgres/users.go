package postgres

import (
	"context"
	"database/sql"
	"fmt"
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
	var where []string
	var args []any
	// add appends a condition with its arguments, numbering the %d in it as $1, $2 …
	add := func(cond string, vals ...any) {
		nums := make([]any, len(vals))
		for i, v := range vals {
			args = append(args, v)
			nums[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, nums...))
	}
	add("u.site = $%d", q.Site)
	if text := q.Text; text != "" {
		// ILIKE folds case (LIKE would not, in PostgreSQL); the pattern is lower-cased in Go,
		// as username_key is, so a username matches whatever the case of either. The caller's
		// % and _ are literal.
		p := "%" + sqlstore.EscapeLike(strings.ToLower(text)) + "%"
		add(`(u.username_key ILIKE $%[1]d ESCAPE '\' OR u.first_name ILIKE $%[1]d ESCAPE '\'
			OR u.last_name ILIKE $%[1]d ESCAPE '\' OR u.email ILIKE $%[1]d ESCAPE '\')`, p)
	}
	if q.AgencyID != 0 {
		add("u.agency_id = $%d", q.AgencyID)
	}
	if q.Locked {
		add("l.locked_at IS NOT NULL")
	}
	if q.Disabled {
		add("u.disabled")
	}
	if q.NoEmail {
		add("u.email = ''")
	}
	if after := hmisauth.UsernameKey(q.After); after != "" {
		add("u.username_key > $%d", after)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sqlstore.DefaultUsers
	}
	args = append(args, min(limit, sqlstore.MaxUsers))
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` WHERE `+strings.Join(where, ` AND `)+
		fmt.Sprintf(` ORDER BY u.username_key LIMIT $%d`, len(args)), args...)
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
	// restore puts back every u.ID and u.Subject: a retried transaction starts afresh, and a
	// failed one wrote nothing, so the IDs and subjects its inserts handed out mean nothing.
	restore := func() {
		for i, u := range us {
			if u != nil {
				u.ID, u.Subject = ids[i], subjects[i]
			}
		}
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		restore()
		for i, u := range us {
			if err := createRow(ctx, tx, u); err != nil {
				return sqlstore.RowError(i, err)
			}
		}
		return nil
	})
	if err != nil {
		restore()
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
