package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth/store/sqlite"
)

// writeOldRows changes a user's names and an agency's name straight in the database, as rows
// written before names were checked may hold them.
func (c *cli) writeOldRows(username, first, last, agency string) {
	t := c.t
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(c.data, "hmisauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(ctx, "live", username)
	if err != nil {
		t.Fatal(err)
	}
	u.FirstName, u.LastName = first, last
	if err := st.UpdateUserProfile(ctx, u); err != nil {
		t.Fatal(err)
	}
	ag, err := st.Agency(ctx, "live", u.AgencyID)
	if err != nil {
		t.Fatal(err)
	}
	ag.Name = agency
	if err := st.UpdateAgency(ctx, ag); err != nil {
		t.Fatal(err)
	}
}

// TestHumanOutputEscapesStoredControlCharacters: an old row holds a screen-clearing escape, a
// false "username: admin" line, a terminal-title sequence and a bidirectional override. The
// commands a sysadmin reads show each of them escaped, so nothing an agency administrator
// once typed can rewrite their terminal or forge a line of output; --json keeps the values.
func TestHumanOutputEscapesStoredControlCharacters(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "Hope House", "--seats", "0", "--license-expires", "2020-06-30")
	c.run("user", "create", "--site", "live", "--first", "Jane", "--last", "Doe", "--agency", "Hope House")
	c.writeOldRows("jdoe", "\x1b[2J", "Doe\nusername: admin\r", "Hope\x1b]0;owned\x07 \u202eHouse\r\nFake line")

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"user", "show", "--site", "live", "jdoe"}, []string{`\x1b[2J Doe\nusername: admin`, `\x1b]0;owned\x07 \u202eHouse\r\nFake line`}},
		{[]string{"agency", "list", "--site", "live"}, []string{`Hope\x1b]0;owned\x07 \u202eHouse\r\nFake line — unlimited seats`}},
		{[]string{"report", "--site", "live", "no-email"}, []string{`\x1b[2J Doe\nusername: admin`, `\u202eHouse\r\nFake line`}},
	} {
		out := c.run(tc.args...)
		name := strings.Join(tc.args[:2], " ")
		if i := strings.IndexAny(out, "\x1b\x07\r\u202e"); i >= 0 {
			t.Errorf("%s: a control character reached the terminal at %d:\n%q", name, i, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "username: admin") || strings.HasPrefix(l, "Fake line") {
				t.Errorf("%s: a stored name printed the line %q", name, line)
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %s:\n%s", name, w, out)
			}
		}
	}

	var s struct {
		FirstName string `json:"first_name"`
		Agency    string
	}
	c.json(&s, "user", "show", "--site", "live", "jdoe")
	if s.FirstName != "\x1b[2J" || !strings.HasSuffix(s.Agency, "Fake line") {
		t.Errorf("--json changed the stored values: %+v", s)
	}
}

// TestTypedNamesCannotCarryControlCharacters: the command line checks names like the console.
func TestTypedNamesCannotCarryControlCharacters(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"user", "create", "--site", "live", "--first", "Jane\nusername: admin", "--last", "Doe"},
		{"user", "create", "--site", "live", "--first", "Jane", "--last", "Doe\x1b[2J"},
		{"user", "create", "--site", "live", "--first", "Jane", "--last", "Doe", "--phone", "555\r0100"},
		{"agency", "create", "--site", "live", "--name", "Hope\u202eHouse"},
	} {
		_, err := c.try(args...)
		if err == nil || !strings.Contains(oneLine(err), "has a character that cannot be typed") {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// TestHumanTextNeverCarriesARawEscape checks the safety net under printable: a value put into
// the text without it still reaches the terminal escaped, and the text's own lines stay.
func TestHumanTextNeverCarriesARawEscape(t *testing.T) {
	var out strings.Builder
	g := &globals{stdout: &out}
	if err := g.print(nil, "agency: Hope\x1b[2J\u202eHouse\r\nnext line\n"); err != nil {
		t.Fatal(err)
	}
	if want := `agency: Hope\x1b[2J\u202eHouse\r` + "\nnext line\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}
