package password

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// These tests back the OWASP ASVS 5.0 rows of docs/SECURITY.md that this package owns.

func nistPolicy(t *testing.T) hmisauth.PasswordPolicy {
	t.Helper()
	p, _, ok := Profile(ProfileNIST)
	if !ok {
		t.Fatal("Profile(nist) is unknown")
	}
	return p
}

// longPhrase is a passphrase that repeats nothing, to cut to any length up to 141.
const longPhrase = "quilt harbor nimbly oxen velvet cactus lanterns drifting over the bay at dusk while " +
	"seven herons argue about tidal schedules quietly and then"

// ASVS 6.2.1, 6.2.5, 6.2.9, 6.2.4: under the nist profile a long password of any composition
// is accepted; a short one, a common one or a pattern is not.
func TestNISTProfileTakesAnyCompositionAndSixtyFourCharacters(t *testing.T) {
	p := nistPolicy(t)
	if ps := CheckProfile(p); len(ps) != 0 {
		t.Fatalf("the nist profile breaks its own promise: %+v", ps)
	}
	for _, tc := range []struct {
		name, pw string
		want     []string
	}{
		{"lower-case words only", "quilt harbor nimbly oxen", nil},
		{"digits only", "804613975260318", nil},
		{"symbols and spaces only", "#% &* (-+ =[ ]{ }", nil},
		{"letters without case", "猫が窓辺で静かに眠っている午後の光", nil},
		{"64 characters", longPhrase[:64], nil},
		{"128 characters", longPhrase[:128], nil},
		{"129 characters", longPhrase[:129], []string{RuleMaxLength}},
		{"14 characters", "quilt harbor n", []string{RuleMinLength}},
		{"common word padded to 15", "Password12345678!", []string{RuleCommon}},
		// The blocklist holds few entries this long; what people type to reach 15 is caught
		// as a pattern instead.
		{"a common password said twice", "iloveyouiloveyou", []string{RuleCommon}},
		{"a phrase said twice", "quilt harbor quilt harbor", []string{RuleCommon}},
		{"one key held down", "aaaaaaaaaaaaaaaa", []string{RuleCommon}},
		{"digits in a row", "123456789012345", []string{RuleCommon}},
		{"keyboard rows", "qwertyuiopasdfgh", []string{RuleCommon}},
		{"alphabet backwards", "zyxwvutsrqponmlk", []string{RuleCommon}},
		{"shifted digit row", "!@#$%^&*()_+!@#$", []string{RuleCommon}},
		{"a pattern inside digits", "2024iloveyouiloveyou!", []string{RuleCommon}},
		{"runs of two are words, not patterns", "asop zxqw erdf tyghbn", nil},
		{"username and names still refused", "jdoe quilt harbor nimbly", []string{RuleContainsUsername, RuleContainsName}},
	} {
		if got := rulesOf(Check(p, tc.pw, jane)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Check(%q) broke %v, want %v", tc.name, tc.pw, got, tc.want)
		}
	}
	for _, name := range []string{"", "NIST", "pci"} {
		if _, _, ok := Profile(name); ok {
			t.Errorf("Profile(%q) is known; only %v are", name, Profiles())
		}
	}
}

// ASVS 6.2.8 and 6.2.9: a long password goes through Argon2id whole and exactly as typed:
// nothing is cut off, trimmed, case-folded or normalised, so any change to it fails.
func TestLongPasswordsAreHashedWholeAndExactly(t *testing.T) {
	h := NewHasher(DefaultOptions()) // the production cost and code path
	ctx := context.Background()
	long := strings.Repeat("é quilt ", 128) + "end" // 1027 characters, 1155 bytes
	for _, tc := range []struct {
		name, pw string
		wrong    []string
	}{
		{"64 characters", " Quilt harbor nimbly oxen, velvet cactus & 7 lanterns drifting! ",
			[]string{
				" Quilt harbor nimbly oxen, velvet cactus & 7 lanterns drifting!",  // trailing space trimmed
				"Quilt harbor nimbly oxen, velvet cactus & 7 lanterns drifting! ",  // leading space trimmed
				" quilt harbor nimbly oxen, velvet cactus & 7 lanterns drifting! ", // case folded
				" Quilt harbor nimbly oxen, velvet cactus & 7 lanterns drifting? ", // last character
			}},
		{"over 1000 characters", long, []string{long[:len(long)-1], long[:72], strings.ToUpper(long)}},
		{"composed and decomposed é differ", "caf\u00e9 quilt harbor nimbly", []string{"cafe\u0301 quilt harbor nimbly"}},
	} {
		phc, err := h.Hash(ctx, tc.pw)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := h.Verify(ctx, tc.pw, phc); !ok || err != nil {
			t.Errorf("%s: the password as typed does not verify (%v)", tc.name, err)
		}
		for _, w := range tc.wrong {
			if ok, _, _ := h.Verify(ctx, w, phc); ok {
				t.Errorf("%s: %q verifies against the hash of %q", tc.name, w, tc.pw)
			}
		}
	}
}

// ASVS 6.4.1: a temporary password follows the nist profile as well as the default rules.
func TestTemporaryPasswordMeetsTheNISTProfile(t *testing.T) {
	p := nistPolicy(t)
	for range 200 {
		s := Temporary(p)
		for _, v := range Check(p, s, Person{}) {
			if v.Rule != RuleContainsSiteName { // a random group can spell a site's name, rarely
				t.Errorf("Temporary() = %q breaks the nist profile: %s", s, v.Message)
			}
		}
	}
}

// ASVS 6.2.4 at the default minimum: the list has far more than the top 3,000 passwords long
// enough to pass it. (At the nist profile's 15 few entries are that long; the patterns above
// stand in for them.)
func TestBlocklistHoldsThreeThousandPasswordsOfTheDefaultLength(t *testing.T) {
	min, n := hmisauth.DefaultPolicy().Password.MinLength, 0
	for s := range blocklist() {
		if utf8.RuneCountInString(s) >= min {
			n++
		}
	}
	if n < 3000 {
		t.Errorf("%d blocklist entries of %d or more characters, want at least 3,000", n, min)
	}
}
