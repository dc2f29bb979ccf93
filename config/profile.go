package config

import (
	"reflect"
	"slices"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// applyPasswordProfile gives the site's password policy at path (…policy.password.) the values
// of the profile it names, for every key the profile decides that the file and environment did
// not set. So a profile acts as the site's defaults, wherever in the file or the environment it
// is named and whatever order the keys come in, and a key written next to it wins (and is
// then checked against the profile by checkPasswordProfile).
func (l *loader) applyPasswordProfile(path string, p *hmisauth.PasswordPolicy) {
	prof, keys, ok := password.Profile(p.Profile)
	if !ok {
		return // "" has nothing to apply; an unknown name is reported by checkPasswordProfile
	}
	dst, src := reflect.ValueOf(p).Elem(), reflect.ValueOf(prof)
	fields := yamlFields(dst.Type())
	for _, key := range keys {
		if _, set := l.where[path+key]; set {
			continue
		}
		i := fields[key]
		dst.Field(i).Set(src.Field(i))
	}
}

// checkPasswordProfile refuses an unknown profile name, and explicit keys that break what the
// named profile promises (for nist, ASVS 5.0 section 6.2).
func (l *loader) checkPasswordProfile(path string, p hmisauth.PasswordPolicy) {
	if p.Profile != "" && !slices.Contains(password.Profiles(), p.Profile) {
		l.bad(path+"profile", "must be %s or left out, not %q", strings.Join(password.Profiles(), " or "), p.Profile)
		return
	}
	for _, pr := range password.CheckProfile(p) {
		l.bad(path+pr.Key, "%s", pr.Message)
	}
}
