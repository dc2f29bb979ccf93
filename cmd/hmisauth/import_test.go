package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tryWith runs one command with the given standard input and returns both outputs.
func (c *cli) tryWith(stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := newRootCmd(&out, &errOut, c.environ)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append(args, "--data", c.data))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeCSV(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staff.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUserImportCreatesEveryUser(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "Hope Shelter", "--seats", "5", "--license-expires", "2099-06-30")
	c.run("user", "create", "--site", "live", "--first", "Jane", "--last", "Doe")
	file := writeCSV(t, "\uFEFFFirst Name,Last Name,E-mail,Phone,Agency,Role\r\n"+
		"John,Doe,jdoe@hope.example.org,555-0101,Hope Shelter,user\r\n"+
		"María,Núñez,mnunez@hope.example.org,,Hope Shelter,agency_admin\r\n")

	out, _, err := c.tryWith("", "user", "import", "--site", "live", file, "--dry-run")
	if err != nil || !strings.Contains(out, "The file is good: 2 users would be created.") || !strings.Contains(out, "jdoe2") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if _, err := c.try("user", "show", "--site", "live", "jdoe2"); err == nil {
		t.Fatal("the dry run created a user")
	}

	out = c.run("user", "import", "--site", "live", file)
	for _, want := range []string{"Imported 2 users.", "jdoe2", "John Doe", "mnunez", "María Núñez", "TEMPORARY PASSWORD", "Hand each person their own password privately"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, username := range []string{"jdoe2", "mnunez"} {
		var s shown
		c.json(&s, "user", "show", "--site", "live", username)
		if s.Username != username || s.Status != "active" {
			t.Fatalf("show %s: %+v", username, s)
		}
	}
	var u struct {
		Role, Agency, Email string
		PasswordTemporary   bool `json:"password_temporary"`
	}
	c.json(&u, "user", "show", "--site", "live", "mnunez")
	if u.Role != "agency_admin" || u.Agency != "Hope Shelter" || u.Email != "mnunez@hope.example.org" || !u.PasswordTemporary {
		t.Fatalf("mnunez: %+v", u)
	}
	log := c.run("audit", "export", "--format", "csv")
	if strings.Count(log, ",user_created,") != 3 || !strings.Contains(log, "imported") {
		t.Fatalf("audit export:\n%s", log)
	}
	c.run("audit", "verify")
}

func TestUserImportWithABadRowImportsNothing(t *testing.T) {
	c := newCLI(t)
	file := writeCSV(t, "first,last,email\nJohn,Doe,jdoe@example.org\nBo,,bo@example.org\nAnn,Lee,ann at example\n")
	out, stderr, err := c.tryWith("", "user", "import", "--site", "live", file)
	if err == nil || oneLine(err) != "Nothing was imported: fix the rows above and run the command again." {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(stderr, "row 3: no last name\n") || !strings.Contains(stderr, "row 4: enter an e-mail address") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	if !strings.Contains(out, "jdoe") || strings.Contains(out, "would be created") {
		t.Fatalf("preview:\n%s", out)
	}
	for _, username := range []string{"jdoe", "alee"} {
		if _, err := c.try("user", "show", "--site", "live", username); err == nil {
			t.Errorf("%s was created from a file with bad rows", username)
		}
	}
	// A file that cannot be read at all says why in one line.
	_, err = c.try("user", "import", "--site", "live", writeCSV(t, "John,Doe\n"))
	if err == nil || !strings.Contains(oneLine(err), "The first row") {
		t.Fatalf("headerless file: %v", err)
	}
	if _, err := c.try("user", "import", "--site", "live", filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

func TestUserImportJSONFromStandardInput(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "Hope Shelter", "--seats", "0")
	stdin := "last,first,email,agency\nDoe,John,jdoe@example.org,hope shelter\nDoe,Jane,,\n"
	out, stderr, err := c.tryWith(stdin, "user", "import", "--site", "live", "-", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var created []struct {
		Line              int
		Username          string
		FirstName         string `json:"first_name"`
		LastName          string `json:"last_name"`
		Email             string
		Agency            string
		TemporaryPassword string `json:"temporary_password"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if len(created) != 2 {
		t.Fatalf("created %+v", created)
	}
	first, second := created[0], created[1]
	if first.Line != 2 || first.Username != "jdoe" || first.FirstName != "John" || first.Email != "jdoe@example.org" ||
		first.Agency != "Hope Shelter" || len(first.TemporaryPassword) < 12 {
		t.Fatalf("first: %+v", first)
	}
	if second.Line != 3 || second.Username != "jdoe2" || second.TemporaryPassword == "" || second.TemporaryPassword == first.TemporaryPassword {
		t.Fatalf("second: %+v", second)
	}
	if !strings.Contains(stderr, "Hand each person their own password privately") {
		t.Fatalf("stderr lacks the hand-out note:\n%s", stderr)
	}
	var s shown
	c.json(&s, "user", "show", "--site", "live", "jdoe2")
	if s.Username != "jdoe2" {
		t.Fatalf("show: %+v", s)
	}
	// A preview with --json is the planned rows, each with its problems.
	out, _, err = c.tryWith("first,last\nAnn,\n", "user", "import", "--site", "live", "-", "--json")
	var plan []struct {
		Line   int
		Errors []string
	}
	if err == nil || json.Unmarshal([]byte(out), &plan) != nil || len(plan) != 1 || plan[0].Line != 2 || len(plan[0].Errors) != 1 {
		t.Fatalf("preview of a bad file: %v %q", err, out)
	}
}
