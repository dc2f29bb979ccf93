package config

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/hmisauth/hmisauth"
	"gopkg.in/yaml.v3"
)

var trainingKindsType = reflect.TypeFor[map[string]hmisauth.TrainingKind]()

// decodeTrainingKinds reads policy.training.kinds, a group of kinds by name, as sites and
// clients are read: the file's group replaces the default (none), each kind checked by name.
func (l *loader) decodeTrainingKinds(path string, n *yaml.Node, v reflect.Value) {
	ptrs := reflect.New(reflect.TypeFor[map[string]*hmisauth.TrainingKind]()).Elem()
	l.decodeKeyed(path, n, ptrs, "training name", path, "trainings (new_user: {valid: 0s})", checkTrainingKey,
		func(string) reflect.Value { return reflect.ValueOf(new(hmisauth.TrainingKind)) })
	if ptrs.IsNil() {
		return // null: keep the default
	}
	kinds := map[string]hmisauth.TrainingKind{}
	for k, kind := range ptrs.Interface().(map[string]*hmisauth.TrainingKind) {
		kinds[k] = *kind
	}
	v.Set(reflect.ValueOf(kinds))
}

func checkTrainingKey(key string) string {
	if !trainingKey.MatchString(key) {
		return "must be a lower-case name of letters, digits and _ (like privacy_security), at most 40 characters"
	}
	return ""
}

// trainingKey is what a kind of training may be called: it appears in import column names
// (training_<kind>), the command line and reports, so it stays a plain identifier.
var trainingKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// checkTraining checks policy.training (p ends in "training."): kinds named like identifiers,
// each valid for 0 (never lapses) or a whole number of days, since completions are dates; and
// required naming defined kinds, once each.
func (l *loader) checkTraining(p string, t hmisauth.TrainingPolicy) {
	keys := make([]string, 0, len(t.Kinds))
	for k := range t.Kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same problems in the same order on every start
	for _, k := range keys {
		if msg := checkTrainingKey(k); msg != "" {
			l.bad(p+"kinds", "%q %s", k, msg) // decodeTrainingKinds refuses these from the file already
			continue
		}
		switch v := t.Kinds[k].Valid; {
		case v < 0:
			l.bad(p+"kinds."+k+".valid", "must not be negative (0s means it never lapses)")
		case v%(24*time.Hour) != 0:
			l.bad(p+"kinds."+k+".valid", "must be a whole number of days (like 365d), since trainings are recorded by date")
		}
	}
	for i, k := range t.Required {
		switch {
		case !slices.Contains(keys, k):
			l.bad(p+"required", "names %q, which is not one of training.kinds", k)
		case slices.Index(t.Required, k) != i:
			l.bad(p+"required", "names %q twice", k)
		}
	}
}
