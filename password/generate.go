package password

import (
	"strings"

	"github.com/hmisauth/hmisauth"
)

// The readable alphabet: letters and digits that are not mistaken for one another when read
// aloud over the phone or off a screen or a printout: no 0/O/o, no 1/l/I/i. Temporary
// passwords are drawn from it, and recovery codes (auth) from its small letters and digits.
const (
	ReadableLower  = "abcdefghjkmnpqrstuvwxyz"  // 23 letters: no i, l, o
	ReadableUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ" // 24 letters: no I, O
	ReadableDigits = "23456789"                 // no 0, 1
)

// groupLen is how many characters a temporary password has between its hyphens: four at a
// time is what a person reads out, and types, without losing their place.
const groupLen = 4

// minGroups makes a temporary password at least 16 characters (with its hyphens, 19): about
// 92 bits with capitals, 79 without, for a password that works once within a few days.
const minGroups = 4

// Temporary returns a new random temporary password for a site with password policy p, such as
// "hx7k-Rm4p-Wq9t-3nbz": groups of four from the readable alphabet, joined by hyphens, so it
// is easy to read to someone over the phone. It meets p's rules on the password itself:
//   - length: four groups (19 characters), or as many more as p's min_length needs (24 needs
//     five), and no more than its max_length allows;
//   - composition: a hyphen is a symbol; it has a small letter and a number always, and a
//     capital when p requires one. A site that requires none (the nist profile) gets small
//     letters and numbers only, which need no "capital R, small m" on the phone.
//
// It does not know the user, so the caller checks it against their names (auth does, drawing
// again when it breaks a rule): it is only ever used once.
func Temporary(p hmisauth.PasswordPolicy) string {
	groups := max(minGroups, (p.MinLength+1+groupLen)/(groupLen+1))
	if p.MaxLength > 0 && groups*(groupLen+1)-1 > p.MaxLength {
		groups = max(1, (p.MaxLength+1)/(groupLen+1))
	}
	alphabet := ReadableLower + ReadableDigits
	if requires(p, RuleUpper) {
		alphabet = ReadableLower + ReadableUpper + ReadableDigits
	}
	for {
		s := randomGroups(alphabet, groups)
		if strings.ContainsAny(s, ReadableLower) && strings.ContainsAny(s, ReadableDigits) &&
			(!requires(p, RuleUpper) || strings.ContainsAny(s, ReadableUpper)) {
			// Drawing again, rather than forcing a class into some position, keeps every
			// acceptable password equally likely. About one draw in ten is redrawn.
			return s
		}
	}
}

// randomGroups draws groups of groupLen characters of alphabet (fewer than 256), joined by
// hyphens.
func randomGroups(alphabet string, groups int) string {
	n := len(alphabet)
	// Bytes at or above the largest multiple of n are discarded, so that b % n is uniform.
	limit := 256 - 256%n
	want := groups * groupLen
	var sb strings.Builder
	chars := 0
	for chars < want {
		for _, b := range randomBytes(32) {
			if int(b) >= limit || chars == want {
				continue
			}
			if chars > 0 && chars%groupLen == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(alphabet[int(b)%n])
			chars++
		}
	}
	return sb.String()
}
