package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestBlocklistHoldsRealCommonPasswords(t *testing.T) {
	if n := BlocklistSize(); n < 10_000 {
		t.Fatalf("BlocklistSize() = %d, want at least 10,000", n)
	}
	for _, s := range []string{"password", "letmein", "sunshine", "123456", "qwerty", "iloveyou", "Password"} {
		if !IsCommon(s) {
			t.Errorf("IsCommon(%q) = false", s)
		}
	}
	for _, s := range []string{"Horse-battery-staple-7", "hx7k-Rm4p-Wq9t-3nbz", ""} {
		if IsCommon(s) {
			t.Errorf("IsCommon(%q) = true", s)
		}
	}
}

// TestBlocklistFileIsGenerated checks the embedded file is what scripts/gen-blocklist.sh
// writes: a header naming the sources, their versions and licence, then sorted unique
// lower-cased entries.
func TestBlocklistFileIsGenerated(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(blocklistGz))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Scan()
	header := sc.Text()
	m := regexp.MustCompile(`^# .*@zxcvbn-ts/language-common@[0-9.]+ src/passwords\.json \(([0-9]+) passwords\) and @zxcvbn-ts/language-en@[0-9.]+ .*MIT License`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("header %q does not name the sources, versions and licence", header)
	}
	if n, _ := strconv.Atoi(m[1]); n < 10_000 {
		t.Errorf("the list was made from %d passwords, want at least 10,000", n)
	}
	var entries []string
	for sc.Scan() {
		entries = append(entries, sc.Text())
	}
	if !slices.IsSorted(entries) || len(slices.Compact(slices.Clone(entries))) != len(entries) {
		t.Error("entries are not sorted and unique: regenerate with scripts/gen-blocklist.sh")
	}
	for _, e := range entries {
		if e == "" || e != strings.ToLower(e) {
			t.Fatalf("entry %q is empty or not lower-cased", e)
		}
	}
	if len(entries) != BlocklistSize() {
		t.Errorf("file has %d entries, the loaded list %d", len(entries), BlocklistSize())
	}
}

func TestParseBlocklistRefusesAFileWithoutHeader(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("password\nletmein\n"))
	zw.Close()
	if _, err := parseBlocklist(buf.Bytes()); err == nil {
		t.Error("a list without its header line was accepted")
	}
	if _, err := parseBlocklist([]byte("not gzip")); err == nil {
		t.Error("a list that is not gzip was accepted")
	}
}
