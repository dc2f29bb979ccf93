package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hmisauth/hmisauth"
)

// loader collects every problem of one Load and remembers where each key was set, so that a
// message can point the operator at the line or variable to fix.
type loader struct {
	errs  []error
	where map[string]string // key path → "line 12" or "HMISAUTH_…"
	// done records which YAML mapping was already applied to which value: aliases and merge
	// keys can reach one mapping many times, and re-walking it could take exponential time.
	done map[doneKey]bool
}

type doneKey struct {
	node   *yaml.Node
	target uintptr
	typ    reflect.Type
}

// bad records that the value at key path is impossible.
func (l *loader) bad(path, format string, args ...any) {
	msg := fmt.Sprintf("config: %s %s", path, fmt.Sprintf(format, args...))
	if w := l.where[path]; w != "" {
		msg += " (" + w + ")"
	}
	l.errs = append(l.errs, fmt.Errorf("%s", msg))
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sitesType    = reflect.TypeOf(map[string]*hmisauth.Site(nil))
	clientsType  = reflect.TypeOf(map[string]*hmisauth.ClientConfig(nil))
)

func reflectValue(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps each YAML key of struct type t to its field index.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's own rule for untagged fields
		}
		fields[name] = i
	}
	return fields
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports an empty value (`key:` or `key: ~`). It keeps the default: writing a key
// without a value must not silently turn a security setting off.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// decodeStruct applies mapping n onto the default-filled struct v. We walk the nodes ourselves
// rather than letting yaml.v3 decode the whole file because only then can every unknown key,
// and every badly typed value, be reported with its full path (yaml.v3's KnownFields stops at
// the first and names only the Go type), and because decoding a map would replace the
// defaults of each site with zero values.
func (l *loader) decodeStruct(path string, n *yaml.Node, v reflect.Value) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errs = append(l.errs, fmt.Errorf("config: %s must be a group of keys (key: value), not %s (line %d)",
			orTop(path), describe(n), n.Line))
		return
	}
	dk := doneKey{n, v.Addr().Pointer(), v.Type()}
	if l.done[dk] {
		return
	}
	l.done[dk] = true

	fields := yamlFields(v.Type())
	var merges []*yaml.Node
	var apply []int // indexes in n.Content of the keys to set, each key once
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			merges = append(merges, val)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.errs = append(l.errs, fmt.Errorf("config: %s has a key that is not a name (line %d)", orTop(path), k.Line))
			continue
		}
		child := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			l.errs = append(l.errs, fmt.Errorf("config: key %q is set twice (lines %d and %d)", child, line, k.Line))
			continue
		}
		seen[k.Value] = k.Line
		if _, ok := fields[k.Value]; !ok {
			l.errs = append(l.errs, fmt.Errorf("config: unknown key %q (line %d)", child, k.Line))
			continue
		}
		apply = append(apply, i)
	}
	// Merged mappings (<<: *anchor) come first so that the mapping's own keys win, and in
	// reverse so that an earlier mapping in a merge list wins over a later one, as YAML says.
	for i := len(merges) - 1; i >= 0; i-- {
		m := resolve(merges[i])
		if m != nil && m.Kind == yaml.SequenceNode {
			for j := len(m.Content) - 1; j >= 0; j-- {
				l.decodeStruct(path, m.Content[j], v)
			}
		} else {
			l.decodeStruct(path, m, v)
		}
	}
	for _, i := range apply {
		k, val := n.Content[i], n.Content[i+1]
		child := join(path, k.Value)
		l.where[child] = "line " + strconv.Itoa(val.Line)
		l.decodeValue(child, val, v.Field(fields[k.Value]))
	}
}

func orTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// decodeValue applies node n onto field v, whatever its kind.
func (l *loader) decodeValue(path string, n *yaml.Node, v reflect.Value) {
	switch {
	case v.Type() == sitesType:
		l.decodeSites(path, n, v)
	case v.Type() == clientsType:
		l.decodeClients(path, n, v)
	case v.Type() == trainingKindsType:
		l.decodeTrainingKinds(path, n, v)
	case v.Kind() == reflect.Struct:
		l.decodeStruct(path, n, v)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		l.decodeStructList(path, n, v)
	case isNull(resolve(n)):
		// keep the default
	default:
		if err := decodeLeaf(n, v); err != nil {
			l.errs = append(l.errs, fmt.Errorf("config: %s %v (line %d)", path, err, n.Line))
		}
	}
}

// decodeSites replaces the built-in sites with exactly the file's, each starting from the
// defaults so that a site need only say what differs.
func (l *loader) decodeSites(path string, n *yaml.Node, v reflect.Value) {
	l.decodeKeyed(path, n, v, "site name", "site key", "sites (live: …)", checkSiteKey, func(key string) reflect.Value {
		return reflect.ValueOf(defaultSite(key))
	})
}

// decodeKeyed replaces the map v with exactly the group of keys n holds: each key checked by
// check (what is wrong with it, or ""), its value a new *T from fresh(key) with the group's
// keys applied. name and key say what a key is in messages ("site name", "site key"), many
// the whole group.
func (l *loader) decodeKeyed(path string, n *yaml.Node, v reflect.Value, name, key, many string,
	check func(string) string, fresh func(key string) reflect.Value) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errs = append(l.errs, fmt.Errorf("config: %s must be a group of %s, not %s (line %d)",
			path, many, describe(n), n.Line))
		return
	}
	m := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isMerge(k) {
			l.errs = append(l.errs, fmt.Errorf("config: %s has a key that is not a %s (line %d)", path, name, k.Line))
			continue
		}
		child := join(path, k.Value)
		if msg := check(k.Value); msg != "" {
			l.errs = append(l.errs, fmt.Errorf("config: %s %q %s (line %d)", key, k.Value, msg, k.Line))
			continue
		}
		if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
			l.errs = append(l.errs, fmt.Errorf("config: key %q is set twice (line %d)", child, k.Line))
			continue
		}
		e := fresh(k.Value)
		l.where[child] = "line " + strconv.Itoa(val.Line)
		l.decodeStruct(child, val, e.Elem())
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	v.Set(m)
}

// checkSiteKey says what is wrong with a site key, or "". Keys are URL path segments
// (/live/login), so they must be short, lower-case and not clash with the server's own paths.
func checkSiteKey(key string) string {
	if len(key) == 0 || len(key) > 32 || key[0] < 'a' || key[0] > 'z' {
		return "must start with a lower-case letter and be at most 32 characters"
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "may contain only lower-case letters, digits and hyphens"
		}
	}
	switch key {
	case "api", "dev", "static", "healthz", "readyz", "metrics":
		return "is reserved for the server's own pages"
	}
	return ""
}

// decodeLeaf sets a scalar or list field from node n. The error says what the value must be,
// without the key, so that file and environment messages can each name their source.
func decodeLeaf(n *yaml.Node, v reflect.Value) error {
	n = resolve(n)
	if n == nil {
		return fmt.Errorf("must be %s", want(v.Type()))
	}
	if v.Type() == durationType {
		// Parsed here rather than by yaml.v3 so that a plain 0 is accepted and every other
		// bare number is refused with a hint: seconds or nanoseconds would both be guesses.
		if n.Kind == yaml.ScalarNode && n.Value == "0" {
			v.SetInt(0)
			return nil
		}
		d, err := parseDuration(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			return fmt.Errorf("must be %s, not %s", want(v.Type()), describe(n))
		}
		v.SetInt(int64(d))
		return nil
	}
	if (v.Kind() == reflect.Slice) != (n.Kind == yaml.SequenceNode) ||
		(n.Kind != yaml.ScalarNode && n.Kind != yaml.SequenceNode) {
		return fmt.Errorf("must be %s, not %s", want(v.Type()), describe(n))
	}
	tmp := reflect.New(v.Type())
	if err := guard(func() error { return n.Decode(tmp.Interface()) }); err != nil {
		if n.Kind == yaml.SequenceNode {
			return fmt.Errorf("must be %s; one of its items is not a plain value", want(v.Type()))
		}
		return fmt.Errorf("must be %s, not %s", want(v.Type()), describe(n))
	}
	v.Set(tmp.Elem())
	return nil
}

// parseDuration reads a Go duration (15m, 72h) or a whole number of days (90d), as the
// configuration's durations may be written.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// want says in words what a field of type t holds.
func want(t reflect.Type) string {
	if t == durationType {
		return "a duration like 15m, 72h or 0s"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Slice:
		return "a list like [a, b]"
	}
	return "text"
}

// describe names what a node holds, for "must be X, not Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a group of keys"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}
