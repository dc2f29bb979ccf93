package password

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// lookAlikes are the characters a temporary password or recovery code never has: read aloud
// or off a screen they are taken for one another.
const lookAlikes = "0Oo1lIi"

// passwordRules are the rules about a password itself. The rules about a person (names, the
// site's name) are the caller's: Temporary knows no names, and auth draws again.
var passwordRules = []string{RuleMinLength, RuleMaxLength, RuleUpper, RuleLower, RuleDigit, RuleSymbol, RuleCommon}

func TestTemporaryPasswordMeetsEachSitePolicy(t *testing.T) {
	group := `[` + ReadableLower + ReadableUpper + ReadableDigits + `]{4}`
	long := hmisauth.DefaultPolicy().Password
	long.MinLength = 24
	short := hmisauth.DefaultPolicy().Password
	short.MinLength, short.MaxLength = 6, 14
	digitsOnly := hmisauth.DefaultPolicy().Password
	digitsOnly.Require = []string{RuleDigit, RuleSymbol}
	for _, tc := range []struct {
		name     string
		policy   hmisauth.PasswordPolicy
		groups   int
		capitals bool
	}{
		{"default", hmisauth.DefaultPolicy().Password, 4, true},
		{"min_length 20", func() hmisauth.PasswordPolicy { p := long; p.MinLength = 20; return p }(), 5, true},
		{"min_length 24", long, 5, true},
		{"max_length 14", short, 3, true},
		{"nist", nistPolicy(t), 4, false},
		{"no capitals required", digitsOnly, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shape := regexp.MustCompile(`^` + group + strings.Repeat(`-`+group, tc.groups-1) + `$`)
			seen := map[string]bool{}
			for range 300 {
				s := Temporary(tc.policy)
				if !shape.MatchString(s) || strings.ContainsAny(s, lookAlikes) {
					t.Fatalf("Temporary() = %q: not %d groups of four readable characters", s, tc.groups)
				}
				if seen[s] {
					t.Fatalf("Temporary() repeated %q", s)
				}
				seen[s] = true
				if hasCapital := strings.ContainsAny(s, ReadableUpper); hasCapital && !tc.capitals {
					t.Fatalf("Temporary() = %q has capitals, which the policy does not ask for and reading out must say", s)
				}
				for _, v := range Check(tc.policy, s, Person{}) {
					if slices.Contains(passwordRules, v.Rule) {
						t.Errorf("Temporary() = %q breaks %s: %s", s, v.Rule, v.Message)
					}
				}
			}
		})
	}
}

func TestReadableAlphabetHasNoLookAlikes(t *testing.T) {
	all := ReadableLower + ReadableUpper + ReadableDigits
	if strings.ContainsAny(all, lookAlikes+"-") || len(all) != 55 {
		t.Errorf("alphabet %q (%d characters)", all, len(all))
	}
	for i := range len(all) {
		if strings.Count(all, all[i:i+1]) != 1 {
			t.Errorf("%q appears twice: its characters would be drawn unevenly", all[i])
		}
	}
}
