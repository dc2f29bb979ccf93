package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary files to Load: whatever an operator writes, the server must answer
// with a message, never a panic or a hang.
func FuzzLoad(f *testing.F) {
	contract, err := os.ReadFile("testdata/contract.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(contract))
	f.Add("sites:\n  live: &l {policy: {lockout: {threshold: 5}}}\n  training: {<<: *l, training: true}\n")
	f.Add("sites: {live: {policy: {password: {require: [upper, ~]}, session: {idle: 0}}}}\n")
	f.Add("a: &a [*a]\n")
	f.Add("listen: [\n")
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(t.TempDir(), "hmisauth.yaml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, "data", []string{"HMISAUTH_LOG_LEVEL=debug"})
		if err == nil {
			// A configuration that loads must be usable as it is: every site complete.
			if len(c.Sites) == 0 || len(c.SiteKeys) != len(c.Sites) {
				t.Fatalf("loaded with sites %v, keys %v", c.Sites, c.SiteKeys)
			}
			for _, key := range c.SiteKeys {
				s := c.Sites[key]
				if s.Key != key || s.Location == nil || s.Policy.Terms.Text == "" {
					t.Fatalf("site %q incomplete: %+v", key, s)
				}
			}
		}
	})
}

// FuzzDecodeSecretKey reads arbitrary text as secret_key: a key comes back only as 32 bytes,
// and never a panic.
func FuzzDecodeSecretKey(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("c2hvcnQ=")
	f.Add(" not a key \n")
	f.Fuzz(func(t *testing.T, text string) {
		if k, err := DecodeSecretKey(text); err == nil && len(k) != 32 {
			t.Fatalf("DecodeSecretKey(%q) = %d bytes", text, len(k))
		}
	})
}
