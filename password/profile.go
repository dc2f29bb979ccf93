package password

import (
	"fmt"

	"github.com/hmisauth/hmisauth"
)

// ProfileNIST names the password profile that meets OWASP ASVS 5.0 section 6.2 (Levels 1 and
// 2) and NIST SP 800-63B-4 for passwords: long rather than complicated, never forced to
// expire, checked against the blocklist. The HMIS vendors' rules (8 to 50 characters, four
// character kinds, a change every 45 days) are the default; a site chooses this instead.
const ProfileNIST = "nist"

// Profiles returns the names PasswordPolicy.Profile may hold besides "" (no profile).
func Profiles() []string { return []string{ProfileNIST} }

// nistMinLength is NIST SP 800-63B-4's minimum for a password that is the only factor, and the
// length ASVS 6.2.1 strongly recommends. Since a site may or may not require 2-step
// verification, the profile takes the stricter number.
const nistMinLength = 15

// nistMaxLength leaves room for long passphrases: ASVS 6.2.9 asks that at least 64 characters
// be allowed, and hashing cost does not grow with length.
const nistMaxLength = 128

// Profile returns the policy values the named profile decides and the policy keys (their YAML
// names) it decides them for; ok is false for an unknown name. Keys the profile leaves out
// (history, forbidden_words) keep the site's own values. The configuration applies the
// profile to every listed key the site did not write itself.
func Profile(name string) (p hmisauth.PasswordPolicy, keys []string, ok bool) {
	if name != ProfileNIST {
		return hmisauth.PasswordPolicy{}, nil, false
	}
	return hmisauth.PasswordPolicy{
		Profile:    ProfileNIST,
		MinLength:  nistMinLength,
		MaxLength:  nistMaxLength,
		Require:    []string{},
		MaxAgeDays: 0,
		WarnDays:   0,
		Blocklist:  true,
	}, []string{"min_length", "max_length", "require", "max_age_days", "warn_days", "blocklist"}, true
}

// ProfileProblem is one way a policy falls short of the profile it names: the policy key at
// fault (its YAML name) and why, in words for the operator.
type ProfileProblem struct{ Key, Message string }

// CheckProfile returns how p breaks the promise of the profile it names (p.Profile), none when
// it keeps it or names no profile. A site may set any key on top of a profile, but not one that
// would break what the profile stands for: a "nist" site that quietly required symbols would
// claim ASVS compliance it does not have. Stricter values (longer minimum, more history,
// forbidden words) are fine.
func CheckProfile(p hmisauth.PasswordPolicy) []ProfileProblem {
	if p.Profile != ProfileNIST {
		return nil
	}
	var ps []ProfileProblem
	add := func(key, msg string, args ...any) {
		ps = append(ps, ProfileProblem{key, fmt.Sprintf(msg, args...)})
	}
	if p.MinLength < nistMinLength {
		add("min_length", "must be at least %d with profile nist (NIST SP 800-63B; ASVS 6.2.1 recommends %d), not %d",
			nistMinLength, nistMinLength, p.MinLength)
	}
	if p.MaxLength < 64 {
		add("max_length", "must be at least 64 with profile nist (ASVS 6.2.9: passwords of at least 64 characters are allowed), not %d",
			p.MaxLength)
	}
	if len(p.Require) > 0 {
		add("require", "must be [] with profile nist (ASVS 6.2.5: no rules on which kinds of characters a password has)")
	}
	if p.MaxAgeDays != 0 {
		add("max_age_days", "must be 0 with profile nist (ASVS 6.2.10: no forced periodic password changes), not %d",
			p.MaxAgeDays)
	}
	if !p.Blocklist {
		add("blocklist", "must be true with profile nist (ASVS 6.2.4 and 6.2.12: refuse common and breached passwords)")
	}
	return ps
}
