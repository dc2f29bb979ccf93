package password

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

func TestTemporaryPasswordIsReadableAndMeetsTheDefaultRules(t *testing.T) {
	shape := regexp.MustCompile(`^[a-km-np-zA-HJ-NP-Z2-9]{4}(-[a-km-np-zA-HJ-NP-Z2-9]{4}){3}$`)
	composition := []string{RuleMinLength, RuleMaxLength, RuleUpper, RuleLower, RuleDigit, RuleSymbol, RuleCommon}
	seen := map[string]bool{}
	for range 500 {
		s := Temporary()
		if !shape.MatchString(s) || strings.ContainsAny(s, "0Oo1lI") {
			t.Fatalf("Temporary() = %q: not four groups of four readable characters", s)
		}
		if seen[s] {
			t.Fatalf("Temporary() repeated %q", s)
		}
		seen[s] = true
		// Only the rules about the password itself: a random group can, very rarely, spell
		// part of a name (Temporary knows no names), which is not what this test is about.
		for _, v := range Check(hmisauth.DefaultPolicy().Password, s, Person{}) {
			if slices.Contains(composition, v.Rule) {
				t.Errorf("Temporary() = %q breaks %s: %s", s, v.Rule, v.Message)
			}
		}
	}
}

func TestTemporaryAlphabetHasNoLookAlikes(t *testing.T) {
	if strings.ContainsAny(temporaryAlphabet, "0Oo1lI-") || len(temporaryAlphabet) != 56 {
		t.Errorf("alphabet %q", temporaryAlphabet)
	}
	for i := range len(temporaryAlphabet) {
		if strings.Count(temporaryAlphabet, temporaryAlphabet[i:i+1]) != 1 {
			t.Errorf("%q appears twice: its characters would be drawn unevenly", temporaryAlphabet[i])
		}
	}
}
