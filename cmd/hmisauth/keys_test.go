package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hmisauth/hmisauth/config"
)

func TestServerKeyIsMadeOnceInTheDataFolder(t *testing.T) {
	cfg := &config.Config{DataDir: t.TempDir()}
	// Several processes starting at once on one data folder agree on one key.
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := serverKey(cfg)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Fatalf("keys differ: %x and %x", keys[0], k)
		}
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret.key mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := serverKey(cfg)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Errorf("second start: %x, %v", again, err)
	}
	if left, _ := filepath.Glob(filepath.Join(cfg.DataDir, ".secret-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestServerKeyFromConfiguration(t *testing.T) {
	want := bytes.Repeat([]byte{7}, 32)
	text := base64.StdEncoding.EncodeToString(want)
	if k, err := serverKey(&config.Config{SecretKey: text, DataDir: t.TempDir()}); err != nil || !bytes.Equal(k, want) {
		t.Errorf("secret_key: %x, %v", k, err)
	}
	file := filepath.Join(t.TempDir(), "key")
	os.WriteFile(file, []byte(text+"\n"), 0o600)
	if k, err := serverKey(&config.Config{SecretKeyFile: file}); err != nil || !bytes.Equal(k, want) {
		t.Errorf("secret_key_file: %x, %v", k, err)
	}
	// A named file that is missing is an error, never silently a new key.
	if _, err := serverKey(&config.Config{SecretKeyFile: file + ".missing"}); err == nil {
		t.Error("a missing secret_key_file was accepted")
	}
	os.WriteFile(file, []byte("too short"), 0o600)
	if _, err := serverKey(&config.Config{SecretKeyFile: file}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("a bad key file: %v", err)
	}
}

func TestResetMFACommand(t *testing.T) {
	c := newCLI(t)
	c.run("user", "create", "--site", "live", "--first", "Ann", "--last", "Lee", "--email", "alee@agency.example.org")
	out := c.run("user", "reset-mfa", "--site", "live", "alee")
	if !strings.Contains(out, "alee") || !strings.Contains(out, "2-step verification: off") {
		t.Errorf("reset-mfa printed %q", out)
	}
	if log := c.run("audit", "export", "--format", "csv"); !strings.Contains(log, ",mfa_reset,") {
		t.Errorf("audit export lacks mfa_reset:\n%s", log)
	}
	if _, err := c.try("user", "reset-mfa", "--site", "live", "nobody"); err == nil {
		t.Error("reset-mfa of an unknown user succeeded")
	}
}
