package password

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// Rule IDs of violations. API clients match on them, so an ID never changes meaning.
const (
	RuleMinLength        = "min_length"
	RuleMaxLength        = "max_length"
	RuleUpper            = "upper"
	RuleLower            = "lower"
	RuleDigit            = "digit"
	RuleSymbol           = "symbol"
	RuleContainsUsername = "contains_username"
	RuleContainsName     = "contains_name"
	RuleContainsSiteName = "contains_site_name"
	RuleForbiddenWord    = "forbidden_word"
	RuleCommon           = "common"
)

// Requirements returns the names PasswordPolicy.Require may hold, for configuration checks:
// Check ignores any other name.
func Requirements() []string {
	return []string{RuleUpper, RuleLower, RuleDigit, RuleSymbol}
}

// Person is who a password is for: what it may not contain.
type Person struct{ Username, FirstName, LastName, SiteName string }

// minTerm is the shortest name or username that a password may not contain. Shorter ones
// ("Al", "Li") would refuse too many good passwords by accident.
const minTerm = 3

// productTerms are the product's names, which HUD's HMIS standards forbid in passwords like the
// site's own name, with how to show them. Longest first, so a message names the most specific.
func productTerms() []term {
	return []term{{hmisauth.ProductName, hmisauth.ProductName}, {"hmis", "HMIS"}}
}

// term is something a password may not contain: match lower-cased, show as written.
type term struct{ match, show string }

// Check returns every rule of p that pw breaks, in a fixed order, each with a message telling a
// case worker what to do; none means pw is acceptable. Password history is not checked here:
// it needs the stored hashes (auth/ reports it as EPasswordReused).
func Check(p hmisauth.PasswordPolicy, pw string, who Person) []hmisauth.Violation {
	var vs []hmisauth.Violation
	add := func(rule, msg string, args ...any) {
		vs = append(vs, hmisauth.Violation{Rule: rule, Message: fmt.Sprintf(msg, args...)})
	}

	// Length is in characters as a person counts them, not bytes: "é" is one.
	n := utf8.RuneCountInString(pw)
	if p.MinLength > 0 && n < p.MinLength {
		add(RuleMinLength, "Use at least %d characters (this one has %d).", p.MinLength, n)
	}
	if p.MaxLength > 0 && n > p.MaxLength {
		add(RuleMaxLength, "Use at most %d characters (this one has %d).", p.MaxLength, n)
	}

	upper, lower, digit, symbol := classes(pw)
	if requires(p, RuleUpper) && !upper {
		add(RuleUpper, "Add a capital letter (A-Z).")
	}
	if requires(p, RuleLower) && !lower {
		add(RuleLower, "Add a small letter (a-z).")
	}
	if requires(p, RuleDigit) && !digit {
		add(RuleDigit, "Add a number (0-9).")
	}
	if requires(p, RuleSymbol) && !symbol {
		add(RuleSymbol, "Add a symbol, such as ! # $ %% or a space.")
	}

	low := strings.ToLower(pw)
	if u := strings.TrimSpace(who.Username); utf8.RuneCountInString(u) >= minTerm &&
		strings.Contains(low, strings.ToLower(u)) {
		add(RuleContainsUsername, "Do not use your username (%s) in your password.", u)
	}
	for _, t := range nameTerms(who.FirstName, who.LastName) {
		if strings.Contains(low, t.match) {
			add(RuleContainsName, "Do not use your first or last name in your password.")
			break
		}
	}
	for _, t := range append(siteTerms(who.SiteName), productTerms()...) {
		if strings.Contains(low, t.match) {
			add(RuleContainsSiteName, "Do not use the site or product name (%s) in your password.", t.show)
			break
		}
	}

	var words []string
	for _, w := range p.ForbiddenWords {
		// A site lists these words on purpose, so even short ones apply.
		if w = strings.TrimSpace(w); w != "" && strings.Contains(low, strings.ToLower(w)) {
			words = append(words, fmt.Sprintf("%q", w))
		}
	}
	switch len(words) {
	case 0:
	case 1:
		add(RuleForbiddenWord, "Do not use the word %s in your password.", words[0])
	default:
		add(RuleForbiddenWord, "Do not use these words in your password: %s.", strings.Join(words, ", "))
	}

	// A pattern counts as common too, whole or inside the digits and symbols around it.
	if p.Blocklist && (isCommonPassword(low) || isPattern(low) || isPattern(strings.TrimFunc(low, notLetter))) {
		add(RuleCommon, "This password is too common and easy to guess. Choose something less "+
			"predictable, such as three or four unrelated words.")
	}
	return vs
}

// Rules returns p's rules as short phrases for a list shown before the user types, in the same
// order Check reports violations, e.g. "8 to 50 characters", "at least one capital letter (A-Z)".
func Rules(p hmisauth.PasswordPolicy) []string {
	var rs []string
	switch {
	case p.MinLength > 0 && p.MaxLength > 0:
		rs = append(rs, fmt.Sprintf("%d to %d characters", p.MinLength, p.MaxLength))
	case p.MinLength > 0:
		rs = append(rs, fmt.Sprintf("at least %d characters", p.MinLength))
	case p.MaxLength > 0:
		rs = append(rs, fmt.Sprintf("at most %d characters", p.MaxLength))
	}
	if requires(p, RuleUpper) {
		rs = append(rs, "at least one capital letter (A-Z)")
	}
	if requires(p, RuleLower) {
		rs = append(rs, "at least one small letter (a-z)")
	}
	if requires(p, RuleDigit) {
		rs = append(rs, "at least one number (0-9)")
	}
	if requires(p, RuleSymbol) {
		rs = append(rs, "at least one symbol, such as ! # $ % or a space")
	}
	rs = append(rs,
		"not containing your username or your first or last name",
		"not containing the site or product name (HMIS)")

	var words []string
	for _, w := range p.ForbiddenWords {
		if w = strings.TrimSpace(w); w != "" {
			words = append(words, fmt.Sprintf("%q", w))
		}
	}
	switch len(words) {
	case 0:
	case 1:
		rs = append(rs, "not containing the word "+words[0])
	default:
		rs = append(rs, "not containing any of these words: "+strings.Join(words, ", "))
	}

	switch {
	case p.History == 1:
		rs = append(rs, "not the same as your last password")
	case p.History > 1:
		rs = append(rs, fmt.Sprintf("not one of your last %d passwords", p.History))
	}
	if p.Blocklist {
		rs = append(rs, "not a common password or a single dictionary word")
	}
	return rs
}

func requires(p hmisauth.PasswordPolicy, class string) bool {
	return slices.Contains(p.Require, class)
}

// classes reports which character classes pw has. A symbol is any printable character that is
// neither a letter nor a digit, space included: people on the phone with the helpdesk are told
// "a space counts".
func classes(pw string) (upper, lower, digit, symbol bool) {
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsLetter(r):
			// Letters without case (Chinese, Arabic) count as neither.
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPrint(r):
			symbol = true
		}
	}
	return
}

// nameTerms splits names into their parts ("Smith-Jones" → smith, jones; "Mary Ann" → mary,
// ann) so that a password holding either part of a compound name is caught.
func nameTerms(names ...string) []term {
	var ts []term
	for _, name := range names {
		for _, part := range strings.FieldsFunc(name, notLetterOrDigit) {
			if utf8.RuneCountInString(part) >= minTerm {
				ts = append(ts, term{strings.ToLower(part), part})
			}
		}
	}
	return ts
}

// siteTerms are the site's whole name without spaces ("HMIS Live" → hmislive) and each of its
// words of 5+ letters ("Coalition for the Homeless" → coalition, homeless); shorter words are too
// often parts of ordinary words ("Live", "for").
func siteTerms(name string) []term {
	var ts []term
	if whole := strings.ToLower(strings.Join(strings.Fields(name), "")); utf8.RuneCountInString(whole) >= minTerm {
		ts = append(ts, term{whole, strings.TrimSpace(name)})
	}
	for _, w := range strings.FieldsFunc(name, notLetterOrDigit) {
		if utf8.RuneCountInString(w) >= 5 {
			ts = append(ts, term{strings.ToLower(w), w})
		}
	}
	return ts
}

func notLetterOrDigit(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// isCommonPassword reports whether the lower-cased password low is on the blocklist as typed,
// or once the decoration people add to satisfy composition rules is taken off: digits and
// symbols at either end ("Sunshine1!" → sunshine) and look-alike substitutions
// ("P@ssw0rd2024!" → password). The core must keep 4+ characters, so "ab12!!" is not matched
// through "ab".
func isCommonPassword(low string) bool {
	list := blocklist()
	on := func(s string) bool { _, ok := list[s]; return ok }
	if on(low) {
		return true
	}
	// '@' and '$' at the ends are usually letters in disguise ("$unshine", "p@ss"), unlike '!' or
	// a trailing year, so the second try turns them back into letters before stripping.
	for _, s := range []string{low, unleet(low, "@$", 'i')} {
		core := strings.TrimFunc(s, notLetter)
		if utf8.RuneCountInString(core) < 4 {
			continue
		}
		if on(core) || on(unleet(core, "", 'i')) || on(unleet(core, "", 'l')) {
			return true
		}
	}
	return false
}

// unleet undoes common look-alike substitutions (@→a, 4→a, 3→e, 1→i or l, 0→o, $→s, 5→s, 7→t)
// in s. one is the letter '1' stands for; only, when not empty, limits which characters change.
func unleet(s, only string, one rune) string {
	return strings.Map(func(r rune) rune {
		if only != "" && !strings.ContainsRune(only, r) {
			return r
		}
		switch r {
		case '@', '4':
			return 'a'
		case '3':
			return 'e'
		case '1':
			return one
		case '0':
			return 'o'
		case '$', '5':
			return 's'
		case '7':
			return 't'
		}
		return r
	}, s)
}
