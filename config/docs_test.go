package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The reference in docs/CONFIG.md is what operators read; these tests keep it true.

func readDocs(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDocsFullExampleLoads(t *testing.T) {
	_, rest, ok := strings.Cut(readDocs(t), "## Full example")
	_, rest, ok2 := strings.Cut(rest, "```yaml\n")
	example, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/CONFIG.md has no yaml block under \"## Full example\"")
	}
	c := mustLoad(t, example)
	tr := c.Sites["training"]
	if tr.Policy.Lockout.Threshold != 10 || !reflect.DeepEqual(tr.Policy.Password.ForbiddenWords, []string{"sunrise", "illinois"}) {
		t.Errorf("training policy = %+v; the anchor example no longer works", tr.Policy)
	}
}

func TestDocsNameEveryKey(t *testing.T) {
	docs := readDocs(t)
	for _, target := range envTargets(reflectValue(defaults("data"))) {
		key := target.path
		if rest, ok := strings.CutPrefix(key, "sites.live."); ok {
			key = "sites.KEY." + rest
			if strings.HasPrefix(rest, "policy.") {
				key = "…" + rest
			}
		} else if strings.HasPrefix(key, "sites.training.") {
			continue
		}
		if !strings.Contains(docs, "| `"+key+"` |") {
			t.Errorf("docs/CONFIG.md has no row for %s", key)
		}
	}
}
