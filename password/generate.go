package password

import "strings"

// temporaryAlphabet has no characters that are mistaken for one another when read aloud or off
// a printout: no 0/O/o, no 1/l/I. 56 characters, so each is 5.8 bits and 16 are about 93 bits.
const temporaryAlphabet = "abcdefghijkmnpqrstuvwxyz" + "ABCDEFGHJKLMNPQRSTUVWXYZ" + "23456789"

// Temporary returns a new random temporary password such as "hx7k-Rm4p-Wq9t-3nbz": four groups
// of four, easy to read to someone over the phone, and always with a capital letter, a small
// letter, a number and a symbol ('-') so that it meets the default composition rules. It does
// not know the user, so it is not checked against their name: it is only ever used once.
func Temporary() string {
	for {
		s := randomGroups()
		if strings.ContainsAny(s, "ABCDEFGHJKLMNPQRSTUVWXYZ") &&
			strings.ContainsAny(s, "abcdefghijkmnpqrstuvwxyz") &&
			strings.ContainsAny(s, "23456789") {
			// Drawing again, rather than forcing a class into some position, keeps every
			// acceptable password equally likely. About one draw in ten is redrawn.
			return s
		}
	}
}

func randomGroups() string {
	const n = len(temporaryAlphabet)
	// Bytes at or above the largest multiple of n are discarded, so that b % n is uniform.
	const limit = 256 - 256%n
	var sb strings.Builder
	chars := 0
	for chars < 16 {
		for _, b := range randomBytes(32) {
			if int(b) >= limit || chars == 16 {
				continue
			}
			if chars > 0 && chars%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(temporaryAlphabet[int(b)%n])
			chars++
		}
	}
	return sb.String()
}
