package password

// The blocklist holds few long entries (about 400 of 15 or more characters), yet a site on the
// nist profile asks for 15. What people type to reach such a length is mostly one thing said
// twice ("iloveyouiloveyou"), one key held down, or a run along the keyboard or the digits
// ("123456789012345", "qwertyuiopasdfgh"): the first guesses of any cracking tool. isPattern
// catches those, so that the "common" rule still means something at every minimum length
// (OWASP ASVS 6.2.4 asks for the top passwords that fit the policy, not merely the top ones).

// sequences are the orders people run along: the alphabet, the digits (9 then 0 then 1, as on
// the keyboard and in "1234567890123"), the keyboard's letter rows, its top row and the top
// row shifted.
var sequences = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"01234567890",
	"qwertyuiop", "asdfghjkl", "zxcvbnm",
	"1234567890-=",
	"!@#$%^&*()_+",
}

// next holds every pair of characters that follow one another in some sequence.
var next = func() map[[2]rune]bool {
	m := map[[2]rune]bool{}
	for _, s := range sequences {
		rs := []rune(s)
		for i := 0; i+1 < len(rs); i++ {
			m[[2]rune{rs[i], rs[i+1]}] = true
		}
	}
	return m
}()

// minRun is the shortest run that counts as part of a sequence: two keys side by side happen
// in ordinary words ("as", "op"), three in a row rarely do.
const minRun = 3

// isPattern reports whether low, lower-cased, is a unit repeated or made only of runs along a
// sequence, each run at least minRun long and going one way.
func isPattern(low string) bool {
	rs := []rune(low)
	if len(rs) < 2*minRun-2 {
		return false // too short to be anything but a word; the blocklist handles it
	}
	return isRepeated(rs) || isRuns(rs)
}

// isRepeated reports whether rs is one shorter unit said at least twice, the last time perhaps
// cut short ("abcabcab"), by as much as one character (the space between two copies of a
// phrase: "quilt harbor quilt harbor").
func isRepeated(rs []rune) bool {
	for unit := 1; unit*2 <= len(rs)+1; unit++ {
		same := true
		for i := unit; i < len(rs) && same; i++ {
			same = rs[i] == rs[i-unit]
		}
		if same {
			return true
		}
	}
	return false
}

// isRuns reports whether rs splits, from the left, into runs along the sequences, each at
// least minRun long and going one way (forward or backward) throughout.
func isRuns(rs []rune) bool {
	for i := 0; i < len(rs); {
		n := 1
		forward := i+1 < len(rs) && next[[2]rune{rs[i], rs[i+1]}]
		for i+n < len(rs) {
			pair := [2]rune{rs[i+n-1], rs[i+n]}
			if !forward {
				pair = [2]rune{rs[i+n], rs[i+n-1]}
			}
			if !next[pair] {
				break
			}
			n++
		}
		if n < minRun {
			return false
		}
		i += n
	}
	return true
}
