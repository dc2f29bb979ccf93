package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompliancePackMatchesAuditVerify(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "North Shelter")
	c.run("user", "create", "--site", "live", "--first", "Lena", "--last", "Locke", "--email", "l@example.org", "--agency", "North Shelter")
	out := filepath.Join(t.TempDir(), "pack.zip")
	text := c.run("compliance", "pack", "--site", "live", "--out", out)
	if !strings.Contains(text, "Wrote the monitoring pack of live") || !strings.Contains(text, "The audit log is intact") {
		t.Errorf("compliance pack printed %q", text)
	}
	var verify struct {
		OK   bool
		Head string
	}
	c.json(&verify, "audit", "verify")

	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var m struct {
		Files []struct{ Name, SHA256 string }
		Audit struct {
			HeadID   int64  `json:"head_id"`
			HeadHash string `json:"head_hash"`
			Verified bool
		}
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 12 || len(files) != 13 {
		t.Errorf("the zip holds %d files and the manifest lists %d, want 13 and 12 (all but itself)", len(files), len(m.Files))
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: SHA-256 %x, the manifest says %s", f.Name, sum, f.SHA256)
		}
	}
	head := strings.Join([]string{strings.TrimSpace(jsonNumber(m.Audit.HeadID)), m.Audit.HeadHash}, ":")
	if !verify.OK || !m.Audit.Verified || head != verify.Head {
		t.Errorf("the pack's chain head %s (verified %v), audit verify's %s (ok %v): want the same, verified", head, m.Audit.Verified, verify.Head, verify.OK)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCompliancePackRefusesABadSiteOrPlace(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compliance", "pack", "--site", "moon", "--out", filepath.Join(dir, "p.zip")}, `There is no site called "moon".`},
		{[]string{"compliance", "pack", "--site", "live", "--out", filepath.Join(dir, "missing", "p.zip")}, "Cannot write the pack to " + filepath.Join(dir, "missing", "p.zip")},
		{[]string{"compliance", "pack", "--site", "live"}, "--out FILE.zip"},
		{[]string{"compliance", "pack", "--site", "live", "--agency", "Nowhere", "--out", filepath.Join(dir, "p.zip")}, "Nowhere"},
		{[]string{"compliance", "pack", "--site", "live", "--from", "2026-13-01", "--out", filepath.Join(dir, "p.zip")}, "--from must be a real date"},
	} {
		_, err := c.try(tc.args...)
		if err == nil || !strings.Contains(oneLine(err), tc.want) || strings.Contains(oneLine(err), "\n") {
			t.Errorf("%v: error %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused packs left %d files behind in %s", len(entries), dir)
	}
}
