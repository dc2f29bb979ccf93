package password

import (
	"slices"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

var jane = Person{Username: "jdoe", FirstName: "Jane", LastName: "Doe", SiteName: "HMIS Live"}

func rulesOf(vs []hmisauth.Violation) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.Rule)
	}
	return ids
}

func TestPasswordRules(t *testing.T) {
	def := hmisauth.DefaultPolicy().Password
	nist := hmisauth.PasswordPolicy{MinLength: 15, MaxLength: 64, Blocklist: true}
	forbid := def
	forbid.ForbiddenWords = []string{"Chicago", " ", "IL"}
	noList := def
	noList.Blocklist = false

	for _, tc := range []struct {
		name   string
		policy hmisauth.PasswordPolicy
		who    Person
		pw     string
		want   []string
	}{
		{"good passphrase", def, jane, "Horse-battery-staple-7", nil},
		{"space counts as the symbol", def, jane, "Horse battery staple 7", nil},
		{"7 characters", def, jane, "Hx7-kqz", []string{"min_length"}},
		{"8 characters is enough", def, jane, "Hx7-kqzw", nil},
		{"length counts characters not bytes", def, jane, "Éé1!ñøüß", nil},
		{"51 characters", def, jane, "Hx7-" + strings.Repeat("k", 47), []string{"max_length"}},
		{"50 characters is allowed", def, jane, "Hx7-" + strings.Repeat("k", 46), nil},
		{"no capital", def, jane, "horse-battery-staple-7", []string{"upper"}},
		{"no small letter", def, jane, "HORSE-BATTERY-STAPLE-7", []string{"lower"}},
		{"no number", def, jane, "Horse-battery-staple-x", []string{"digit"}},
		{"no symbol", def, jane, "HorseBatteryStaple7", []string{"symbol"}},
		{"composition not required", nist, jane, "horsebatterystaplex", nil},
		{"username", def, Person{Username: "jdoe"}, "Jdoe-battery-staple-7", []string{"contains_username"}},
		{"username in any case", def, Person{Username: "jdoe"}, "Horse-JDOE-staple-7", []string{"contains_username"}},
		{"short username ignored", def, Person{Username: "al"}, "Royal-battery-staple-7", nil},
		{"first name", def, jane, "Horse-jane-staple-7", []string{"contains_name"}},
		{"last name", def, jane, "Horse-battery-DOE-7", []string{"contains_name"}},
		{"short name ignored", def, Person{FirstName: "Al", LastName: "Li"}, "Royal-battery-linen-7", nil},
		{"part of a compound name", def, Person{LastName: "Smith-Jones"}, "Horse-jones-staple-7", []string{"contains_name"}},
		{"site name without spaces", def, jane, "Hmislive-battery-7", []string{"contains_site_name"}},
		{"product name HMIS", def, Person{}, "Horse-hmis-staple-7", []string{"contains_site_name"}},
		{"product name hmisauth", def, Person{}, "Hmisauth-battery-7", []string{"contains_site_name"}},
		{"long word of the site name", def, Person{SiteName: "Coalition for the Homeless"}, "Homeless-battery-7", []string{"contains_site_name"}},
		{"short word of the site name ignored", def, Person{SiteName: "Coalition for the Homeless"}, "Forward-battery-7", nil},
		{"forbidden word", forbid, jane, "Chicago-battery-7", []string{"forbidden_word"}},
		{"short forbidden word still applies", forbid, jane, "Horse-battery-stapIL-7", []string{"forbidden_word"}},
		{"common password", def, jane, "Password1!", []string{"common"}},
		{"common password with leet and a year", def, jane, "P@ssw0rd2024!", []string{"common"}},
		{"dictionary word alone", def, jane, "Sunshine1!", []string{"common"}},
		{"dictionary word with symbols first", def, jane, "$Unshine1!", []string{"common"}},
		{"common in the NIST policy", nist, jane, "iloveyou", []string{"min_length", "common"}},
		{"blocklist off", noList, jane, "Password1!", nil},
		{"common and short", def, jane, "letmein", []string{"min_length", "upper", "digit", "symbol", "common"}},
		{"stripped core under 4 is not looked up", def, jane, "Ab12!!!!x9Z$", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rulesOf(Check(tc.policy, tc.pw, tc.who))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Check(%q) broke %v, want %v", tc.pw, got, tc.want)
			}
		})
	}
}

func TestEveryBrokenRuleIsReported(t *testing.T) {
	p := hmisauth.DefaultPolicy().Password
	p.MinLength = 9
	p.ForbiddenWords = []string{"ssw"}
	who := Person{Username: "pass", FirstName: "Word", SiteName: "Password Live"}
	got := rulesOf(Check(p, "password", who))
	want := []string{"min_length", "upper", "digit", "symbol", "contains_username", "contains_name",
		"contains_site_name", "forbidden_word", "common"}
	if !slices.Equal(got, want) {
		t.Errorf("Check broke %v, want all of %v", got, want)
	}
}

func TestViolationMessagesSayWhatToDo(t *testing.T) {
	p := hmisauth.DefaultPolicy().Password
	msg := func(pw string, who Person, rule string) string {
		for _, v := range Check(p, pw, who) {
			if v.Rule == rule {
				return v.Message
			}
		}
		return ""
	}
	for _, tc := range []struct{ pw, rule, want string }{
		{"Hx7-kq", "min_length", "Use at least 8 characters (this one has 6)."},
		{"Hx7-" + strings.Repeat("k", 58), "max_length", "Use at most 50 characters (this one has 62)."},
		{"hx7-kqzw", "upper", "Add a capital letter (A-Z)."},
		{"HX7-KQZW", "lower", "Add a small letter (a-z)."},
		{"Hxy-kqzw", "digit", "Add a number (0-9)."},
		{"Hx7qkqzw", "symbol", "Add a symbol, such as ! # $ % or a space."},
		{"Jdoe-battery-7", "contains_username", "Do not use your username (jdoe) in your password."},
		{"Jane-battery-7", "contains_name", "Do not use your first or last name in your password."},
		{"Hmis-battery-7", "contains_site_name", "Do not use the site or product name (HMIS) in your password."},
		{"Hmislive-battery-7", "contains_site_name", "Do not use the site or product name (HMIS Live) in your password."},
		{"Password1!", "common", "This password is too common and easy to guess. Choose something less " +
			"predictable, such as three or four unrelated words."},
	} {
		if got := msg(tc.pw, jane, tc.rule); got != tc.want {
			t.Errorf("%s for %q:\n got %q\nwant %q", tc.rule, tc.pw, got, tc.want)
		}
	}

	p.ForbiddenWords = []string{"Chicago"}
	if got, want := msg("Chicago-7x", jane, "forbidden_word"), `Do not use the word "Chicago" in your password.`; got != want {
		t.Errorf("one forbidden word: %q, want %q", got, want)
	}
	p.ForbiddenWords = []string{"Chicago", "Cook"}
	if got, want := msg("Chicago-Cook-7x", jane, "forbidden_word"), `Do not use these words in your password: "Chicago", "Cook".`; got != want {
		t.Errorf("two forbidden words: %q, want %q", got, want)
	}
}

func TestRulesListedBeforeTyping(t *testing.T) {
	p := hmisauth.DefaultPolicy().Password
	want := []string{
		"8 to 50 characters",
		"at least one capital letter (A-Z)",
		"at least one small letter (a-z)",
		"at least one number (0-9)",
		"at least one symbol, such as ! # $ % or a space",
		"not containing your username or your first or last name",
		"not containing the site or product name (HMIS)",
		"not one of your last 5 passwords",
		"not a common password or a single dictionary word",
	}
	if got := Rules(p); !slices.Equal(got, want) {
		t.Errorf("Rules(default) =\n%q\nwant\n%q", got, want)
	}

	nist := hmisauth.PasswordPolicy{MinLength: 15, Blocklist: true, History: 1, ForbiddenWords: []string{"Chicago", "Cook"}}
	want = []string{
		"at least 15 characters",
		"not containing your username or your first or last name",
		"not containing the site or product name (HMIS)",
		`not containing any of these words: "Chicago", "Cook"`,
		"not the same as your last password",
		"not a common password or a single dictionary word",
	}
	if got := Rules(nist); !slices.Equal(got, want) {
		t.Errorf("Rules(nist) =\n%q\nwant\n%q", got, want)
	}
	if got := Rules(hmisauth.PasswordPolicy{MaxLength: 64, ForbiddenWords: []string{"Cook"}}); got[0] != "at most 64 characters" ||
		!slices.Contains(got, `not containing the word "Cook"`) {
		t.Errorf("Rules(max only, one word) = %q", got)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "Password1!", "P@ssw0rd2024!", "Horse-battery-staple-7", "jdoe",
		"\xff\xfe", "Éé1!ñøüß", "$$$$1111", "hmis", strings.Repeat("a", 200)} {
		f.Add(s, "jdoe", "Jane", "HMIS Live")
	}
	known := []string{RuleMinLength, RuleMaxLength, RuleUpper, RuleLower, RuleDigit, RuleSymbol,
		RuleContainsUsername, RuleContainsName, RuleContainsSiteName, RuleForbiddenWord, RuleCommon}
	f.Fuzz(func(t *testing.T, pw, username, name, site string) {
		p := hmisauth.DefaultPolicy().Password
		p.ForbiddenWords = []string{name}
		vs := Check(p, pw, Person{Username: username, FirstName: name, LastName: name, SiteName: site})
		seen := map[string]bool{}
		for _, v := range vs {
			if !slices.Contains(known, v.Rule) || seen[v.Rule] || v.Message == "" {
				t.Fatalf("Check(%q) returned %+v", pw, vs)
			}
			seen[v.Rule] = true
		}
	})
}
