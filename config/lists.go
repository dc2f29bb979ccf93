package config

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// decodeStructList replaces the list v with the file's list n, each item a group of keys
// decoded as decodeStruct does (unknown keys and bad values named with the item's index, as
// "policy.inactivity[1].after"), starting from zero values: a list has no defaults to keep.
func (l *loader) decodeStructList(path string, n *yaml.Node, v reflect.Value) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errs = append(l.errs, fmt.Errorf("config: %s must be a list like [{…}, {…}], not %s (line %d)", path, describe(n), n.Line))
		return
	}
	list := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		elem := reflect.New(v.Type().Elem()).Elem()
		l.decodeStruct(fmt.Sprintf("%s[%d]", path, i), item, elem)
		list = reflect.Append(list, elem)
	}
	v.Set(list)
}
