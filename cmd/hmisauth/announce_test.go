package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// The "Lost it?" line under the first administrator is a command that works as printed: this
// binary, the data folder in use, the site and the username. Run as printed, it issues a new
// temporary password.
func TestLostItHintWorksAsPrinted(t *testing.T) {
	c := newCLI(t)
	out, err := c.serveBriefly("HMISAUTH_LISTEN=127.0.0.1:0")
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	var hint string
	for _, line := range strings.Split(out, "\n") {
		if _, cmd, ok := strings.Cut(line, "Lost it? From this folder, run: "); ok && hint == "" {
			hint = cmd
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	want := programPath(exe, wd) + " user temp-password --data " + shellQuote(c.data) + " --site live admin"
	if hint != want {
		t.Fatalf("the hint is %q, want %q; serve printed:\n%s", hint, want, out)
	}

	words := shellWords(t, hint)
	args := words[len(shellWords(t, programPath(exe, wd))):]
	var stdout bytes.Buffer
	cmd := newRootCmd(&stdout, &bytes.Buffer{}, c.environ)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("the printed command %q: %v", hint, err)
	}
	if !strings.Contains(stdout.String(), `"temporary_password"`) {
		t.Errorf("the printed command printed %q, want a new temporary password", stdout.String())
	}
}

// programPath names the running binary the way it can be started again from the folder the
// server runs in.
func TestProgramPath(t *testing.T) {
	for _, tc := range []struct{ exe, wd, want string }{
		{"/home/ana/hmisauth/bin/hmisauth", "/home/ana/hmisauth", "./bin/hmisauth"},              // make run
		{"/home/ana/hmisauth/hmisauth", "/home/ana/hmisauth", "./hmisauth"},                      // go build
		{"/tmp/go-build123456/b001/exe/hmisauth", "/home/ana/hmisauth", "go run ./cmd/hmisauth"}, // go run
		{"/usr/local/bin/hmisauth", "/srv/hmis", "/usr/local/bin/hmisauth"},                      // installed
		{"/home/ana/hmisauth/bin/hmisauth", "/home/ana/hmisauth/docs", "/home/ana/hmisauth/bin/hmisauth"},
		{"/home/ana/my files/bin/hmisauth", "/home/ana/my files", "./bin/hmisauth"},
		{"/opt/my files/hmisauth", "/srv", "'/opt/my files/hmisauth'"},
	} {
		if got := programPath(tc.exe, tc.wd); got != tc.want {
			t.Errorf("programPath(%q, %q) = %q, want %q", tc.exe, tc.wd, got, tc.want)
		}
	}
	if got := shellQuote("it's here"); got != `'it'\''s here'` {
		t.Errorf("shellQuote = %s", got)
	}
	if got := shellWords(t, "a 'it'\\''s here' b"); strings.Join(got, "|") != "a|it's here|b" {
		t.Errorf("shellWords = %q", got)
	}
}

// shellWords splits a line as a POSIX shell would, for the quoting shellQuote writes.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord, quoted, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == '\\' && !quoted:
			escaped, inWord = true, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}
