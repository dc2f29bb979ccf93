package auth

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/hmisauth/hmisauth"
)

// MaxUsernameLength bounds usernames, given or generated.
const MaxUsernameLength = 64

// letters that do not decompose into a base letter plus accents.
var foldSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'đ': "d", 'Đ': "d", 'ł': "l", 'Ł': "l",
	'œ': "oe", 'Œ': "oe", 'þ': "th", 'Þ': "th", 'ð': "d", 'Ð': "d", 'ı': "i",
}

// FoldASCII reduces a name to lower-case ASCII letters and digits: accents are removed
// (José → jose), a few letters are spelled out (ß → ss), and everything else (spaces,
// apostrophes, hyphens, other scripts) is dropped.
func FoldASCII(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToLower(r))
		case foldSpecial[r] != "":
			b.WriteString(foldSpecial[r])
		}
	}
	return b.String()
}

// BaseUsername is first initial + last name, folded: John Doe → jdoe, Mary-Jo O'Brien-Núñez →
// mobriennunez. A name that folds to nothing (written in another script, say) gives "user",
// and one that folds to a single letter gets "user" added, so the result is always valid.
func BaseUsername(first, last string) string {
	f := FoldASCII(first)
	base := FoldASCII(last)
	if f != "" {
		base = f[:1] + base
	}
	if len(base) < 2 {
		base += "user"
	}
	if len(base) > MaxUsernameLength-4 {
		base = base[:MaxUsernameLength-4]
	}
	return base
}

// usernameCandidate is the n-th username to try for base: jdoe, jdoe2, jdoe3, …
func usernameCandidate(base string, n int) string {
	if n <= 1 {
		return base
	}
	return base + strconv.Itoa(n)
}

// ValidateUsername checks a username an administrator chose: 2 to 64 characters, letters,
// digits, dot, hyphen and underscore, starting with a letter or digit.
func ValidateUsername(u string) error {
	if len(u) < 2 || len(u) > MaxUsernameLength {
		return hmisauth.FieldError("username", "A username must be 2 to 64 characters long.")
	}
	for i, r := range u {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !ok && i > 0 && (r == '.' || r == '-' || r == '_') {
			ok = true
		}
		if !ok {
			return hmisauth.FieldError("username", "A username may use only letters (a-z), digits, and . - _ (not first).")
		}
	}
	return nil
}

// UsernameUnavailable is the answer to a chosen username that someone on the site has. It is
// an ECONFLICT about the username field that offers Free, the next free name made from the
// person's own names, and says nothing else: usernames are unique per site, so an agency
// administrator must hear that a name cannot be used, but not that (or whose) it is in
// another agency.
type UsernameUnavailable struct {
	Err  *hmisauth.Error
	Free string // "" when none of the names made from the person's names is free
}

func (e *UsernameUnavailable) Error() string { return e.Err.Error() }
func (e *UsernameUnavailable) Unwrap() error { return e.Err }

// usernameUnavailable answers a chosen username that is taken, offering the next free one made
// from first and last; skip, when not nil, holds names to pass over (ones an import plans).
func (s *Service) usernameUnavailable(ctx context.Context, site *hmisauth.Site, chosen, first, last string, skip func(string) bool) error {
	free, err := s.freeUsername(ctx, site, BaseUsername(first, last), skip)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("The username %s cannot be used. %s is free for this person; use it, or choose another.", chosen, free)
	if free == "" {
		msg = fmt.Sprintf("The username %s cannot be used. Choose another.", chosen)
	}
	return &UsernameUnavailable{Err: &hmisauth.Error{Code: hmisauth.ECONFLICT, Message: msg, Field: "username"}, Free: free}
}

// freeUsername is the first of base, base2, base3, … that no one on the site has and skip
// does not hold, or "" when there is none within maxUsernameTries.
func (s *Service) freeUsername(ctx context.Context, site *hmisauth.Site, base string, skip func(string) bool) (string, error) {
	for n := 1; n <= maxUsernameTries; n++ {
		cand := usernameCandidate(base, n)
		if len(cand) > MaxUsernameLength {
			break
		}
		if skip != nil && skip(cand) {
			continue
		}
		taken, err := s.usernameTaken(ctx, site, cand)
		if err != nil || !taken {
			return cand, err
		}
	}
	return "", nil
}

// FreeUsername is the username CreateUser would make for a person of these names now: the
// first of jdoe, jdoe2, … that no one on the site has. It tells an agency administrator no more
// than creating the account would: that the names before it are in use somewhere on the site.
func (a *Admin) FreeUsername(ctx context.Context, first, last string) (string, error) {
	return a.svc.freeUsername(ctx, a.p.Site, BaseUsername(first, last), nil)
}
