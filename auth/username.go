package auth

import (
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
