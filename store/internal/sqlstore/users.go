package sqlstore

import (
	"fmt"

	"github.com/hmisauth/hmisauth"
)

// User queries return at most MaxUsers; a query without a limit gets DefaultUsers.
const (
	DefaultUsers = 100
	MaxUsers     = 1000
)

// PrepareUser checks u before its insert and fills the defaults (role, creation time). It
// returns the username key.
func PrepareUser(u *hmisauth.User) (string, error) {
	key := hmisauth.UsernameKey(u.Username)
	if key == "" {
		return "", hmisauth.FieldError("username", "Username is required.")
	}
	if u.Role == "" {
		u.Role = hmisauth.RoleUser
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = Now()
	}
	return key, nil
}

// RowError says which row of a bulk import failed: an application error keeps its code and
// message and names the row in Field; any other error names it in its text.
func RowError(i int, err error) error {
	row := fmt.Sprintf("row %d", i+1)
	if e := hmisauth.AsError(err); e != nil {
		c := *e
		c.Field = row
		return &c
	}
	return fmt.Errorf("%s: %w", row, err)
}
