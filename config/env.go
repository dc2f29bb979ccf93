package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// envPrefix starts every variable that configures hmisauth.
const envPrefix = "HMISAUTH_"

// envName is the variable that sets the key at path: sites.live.policy.lockout.threshold →
// HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_THRESHOLD. Hyphens in site keys become underscores
// because shells do not allow hyphens in variable names.
func envName(path string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(path))
}

// envTarget is one leaf key an environment variable can set.
type envTarget struct {
	path  string
	value reflect.Value
	// others are further keys with the same variable name (site "a-b" key "c" and site "a"
	// key "b.c"); such a variable is refused rather than guessed.
	others []string
}

// envTargets lists every leaf key under root (a Config) by its variable name. Only sites that
// exist are walked: the environment tunes sites, the file defines them.
func envTargets(root reflect.Value) map[string]*envTarget {
	targets := map[string]*envTarget{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch {
		case v.Kind() == reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case v.Kind() == reflect.Map:
			keys := v.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				walk(join(path, k.String()), v.MapIndex(k))
			}
		case v.Kind() == reflect.Struct:
			fields := yamlFields(v.Type())
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				walk(join(path, name), v.Field(fields[name]))
			}
		default:
			name := envName(path)
			if t, clash := targets[name]; clash {
				t.others = append(t.others, path)
			} else {
				targets[name] = &envTarget{path: path, value: v}
			}
		}
	}
	walk("", root)
	return targets
}

// applyEnv sets every key named by an HMISAUTH_ variable in environ. A variable that names no
// key is refused: a mistyped override silently ignored would leave, say, a lockout threshold
// other than the operator believes.
func (l *loader) applyEnv(c *Config, environ []string) {
	vars := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, envPrefix) {
			vars[name] = value // the last of duplicates wins, as in a shell
		}
	}
	if len(vars) > 0 {
		l.reportEnv(envTargets(reflectValue(c)), vars, sortedKeys(c))
	}
}

// reportEnv sets each variable's key, recording why a variable cannot be used.
func (l *loader) reportEnv(targets map[string]*envTarget, vars map[string]string, siteKeys []string) {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := targets[name]
		switch {
		case t == nil && strings.HasPrefix(name, envPrefix+"SITES_"):
			l.errs = append(l.errs, fmt.Errorf("config: %s matches no configuration key "+
				"(sites are defined in the configuration file; these exist: %s)", name, strings.Join(siteKeys, ", ")))
		case t == nil:
			l.errs = append(l.errs, fmt.Errorf("config: %s matches no configuration key", name))
		case len(t.others) > 0:
			l.errs = append(l.errs, fmt.Errorf("config: %s is ambiguous: it could set %s or %s; rename a site",
				name, t.path, strings.Join(t.others, " or ")))
		default:
			if err := decodeEnv(vars[name], t.value); err != nil {
				l.errs = append(l.errs, fmt.Errorf("config: %s (%s) %v", name, t.path, err))
				continue
			}
			l.where[t.path] = "set by " + name
		}
	}
}

// decodeEnv sets v from an environment value. Text is taken exactly as given, because a
// password or a URL may contain characters YAML would read as syntax (#, :, *); numbers,
// durations, booleans and lists are read as YAML, so "15m" and "[upper, digit]" work.
func decodeEnv(value string, v reflect.Value) error {
	if v.Kind() == reflect.String {
		v.SetString(value)
		return nil
	}
	var doc yaml.Node
	if err := guard(func() error { return yaml.Unmarshal([]byte(value), &doc) }); err != nil {
		return fmt.Errorf("must be %s; %q cannot be read", want(v.Type()), value)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return fmt.Errorf("must be %s, not empty", want(v.Type()))
	}
	return decodeLeaf(doc.Content[0], v)
}

func sortedKeys(c *Config) []string {
	keys := make([]string, 0, len(c.Sites))
	for k := range c.Sites {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
