package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// The nist password profile is how a site meets OWASP ASVS 5.0 section 6.2 exactly
// (docs/SECURITY.md); these tests keep its values and its combination with explicit keys true.

func TestNISTProfileMeetsASVSPasswordRules(t *testing.T) {
	c := mustLoad(t, site("password: {profile: nist}")+"  training: {}\n")
	got := c.Sites["live"].Policy.Password
	want := hmisauth.PasswordPolicy{
		Profile:    "nist",
		MinLength:  15,         // ASVS 6.2.1 (8 required, 15 recommended)
		MaxLength:  128,        // ASVS 6.2.9: 64 or more
		Require:    []string{}, // ASVS 6.2.5: no composition rules
		History:    5,          // not the profile's business: the site's default stays
		MaxAgeDays: 0,          // ASVS 6.2.10: no forced rotation
		WarnDays:   0,          // nothing expires, so nothing to warn about
		Blocklist:  true,       // ASVS 6.2.4, 6.2.12
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile nist gives\n%+v\nwant\n%+v", got, want)
	}
	if other := c.Sites["training"].Policy.Password; other.Profile != "" || other.MinLength != 8 || other.MaxAgeDays != 45 {
		t.Errorf("the training site took the live site's profile: %+v", other)
	}
}

func TestExplicitKeysOverrideTheProfileWhereverItIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		environ    []string
		min, hist  int
	}{
		{"key before the profile", site("password: {min_length: 20, history: 8, profile: nist}"), nil, 20, 8},
		{"key after the profile", site("password: {profile: nist, min_length: 20}"), nil, 20, 5},
		{"profile from the environment", site("password: {min_length: 16}"),
			[]string{"HMISAUTH_SITES_LIVE_POLICY_PASSWORD_PROFILE=nist"}, 16, 5},
		{"key from the environment", site("password: {profile: nist}"),
			[]string{"HMISAUTH_SITES_LIVE_POLICY_PASSWORD_MIN_LENGTH=18"}, 18, 5},
		{"profile through an anchor", "sites:\n  live:\n    policy: &p\n      password: {profile: nist}\n" +
			"  training:\n    policy:\n      <<: *p\n", nil, 15, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.text, tc.environ...)
			key := "live"
			if strings.Contains(tc.name, "anchor") {
				key = "training"
			}
			pw := c.Sites[key].Policy.Password
			if pw.MinLength != tc.min || pw.History != tc.hist || pw.MaxLength != 128 || len(pw.Require) != 0 ||
				pw.MaxAgeDays != 0 || !pw.Blocklist {
				t.Errorf("policy = %+v, want min_length %d, history %d and the rest of nist", pw, tc.min, tc.hist)
			}
		})
	}
}

func TestNISTProfileRefusesKeysThatBreakASVS(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"composition rules", site("password: {profile: nist, require: [upper, symbol]}"),
			"config: sites.live.policy.password.require must be [] with profile nist (ASVS 6.2.5"},
		{"forced rotation", site("password: {profile: nist, max_age_days: 90}"),
			"config: sites.live.policy.password.max_age_days must be 0 with profile nist (ASVS 6.2.10"},
		{"too short a maximum", site("password: {profile: nist, max_length: 50}"),
			"config: sites.live.policy.password.max_length must be at least 64 with profile nist (ASVS 6.2.9"},
		{"too short a minimum", site("password: {profile: nist, min_length: 12}"),
			"config: sites.live.policy.password.min_length must be at least 15 with profile nist"},
		{"no blocklist", site("password: {profile: nist, blocklist: false}"),
			"config: sites.live.policy.password.blocklist must be true with profile nist (ASVS 6.2.4 and 6.2.12"},
		{"unknown profile", site("password: {profile: pci}"),
			`config: sites.live.policy.password.profile must be nist or left out, not "pci"`},
		{"composition rules from the environment", site("password: {profile: nist}"),
			"config: sites.live.policy.password.require must be [] with profile nist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if strings.Contains(tc.name, "environment") {
				env = []string{"HMISAUTH_SITES_LIVE_POLICY_PASSWORD_REQUIRE=[digit]"}
			}
			if got := loadErr(t, tc.text, env...); !strings.Contains(got, tc.want) {
				t.Errorf("error\n%s\nwant it to contain\n%s", got, tc.want)
			}
		})
	}
}

func TestDocsNISTProfileExampleLoads(t *testing.T) {
	_, rest, ok := strings.Cut(readDocs(t), "**The nist profile.**")
	_, rest, ok2 := strings.Cut(rest, "```yaml\n")
	example, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/CONFIG.md has no yaml block after \"**The nist profile.**\"")
	}
	indented := "sites:\n  live:\n" + indentLines(example, "    ")
	pol := mustLoad(t, indented).Sites["live"].Policy
	if pol.Password.Profile != "nist" || pol.Password.MinLength != 15 || len(pol.Password.Require) != 0 ||
		pol.Password.MaxAgeDays != 0 || pol.MFA.Required != "everyone" || !slices.Equal(pol.Recovery, []string{"email"}) {
		t.Errorf("the documented ASVS policy loads as %+v", pol)
	}
}

// indentLines puts prefix before every line of text.
func indentLines(text, prefix string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
