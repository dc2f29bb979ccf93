package hmisauth

import "unicode/utf8"

// UnprintableRune returns the first rune of s that a person cannot type as part of a name and
// that would not show as itself, and true; or 0 and false when there is none. Names, agency
// names, phone numbers, passkey names and security questions are refused with it, because
// such a rune written into a name reappears wherever the name does: a line break starts a
// false line in an e-mail or a log, an escape sequence rewrites an administrator's terminal,
// and a bidirectional control makes "txt.exe" read as "exe.txt".
//
// Unprintable are the C0 controls (U+0000–U+001F, among them tab, line feed, carriage return
// and escape), DEL (U+007F), the C1 controls (U+0080–U+009F), the Unicode line and paragraph
// separators (U+2028, U+2029) and the bidirectional controls (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069). A byte that is not UTF-8 is reported as utf8.RuneError.
// Spaces, accents, other scripts and the joiners they need (U+200C, U+200D) are printable.
func UnprintableRune(s string) (rune, bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return utf8.RuneError, true
			}
		}
		if IsUnprintable(r) {
			return r, true
		}
	}
	return 0, false
}

// IsUnprintable reports whether r is one of the runes UnprintableRune finds.
func IsUnprintable(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
