package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs/SECURITY.md's OWASP ASVS table says, for each requirement, which tests prove it. These
// tests keep that honest: every Level 1 and 2 requirement of V6 and V7 has its row, and every
// test a row names exists where it says.

// asvsSection is the heading of the table's section in docs/SECURITY.md.
const asvsSection = "## OWASP ASVS 5.0: V6 Authentication and V7 Session Management (Levels 1 and 2)"

// asvsLevels is every requirement of OWASP ASVS 5.0.0 chapters V6 and V7 at Level 1 or 2, with
// its level, as the released standard lists them (Level 3 ones are left out).
var asvsLevels = map[string]int{
	"6.1.1": 1, "6.1.2": 2, "6.1.3": 2,
	"6.2.1": 1, "6.2.2": 1, "6.2.3": 1, "6.2.4": 1, "6.2.5": 1, "6.2.6": 1, "6.2.7": 1, "6.2.8": 1,
	"6.2.9": 2, "6.2.10": 2, "6.2.11": 2, "6.2.12": 2,
	"6.3.1": 1, "6.3.2": 1, "6.3.3": 2, "6.3.4": 2,
	"6.4.1": 1, "6.4.2": 1, "6.4.3": 2, "6.4.4": 2,
	"6.5.1": 2, "6.5.2": 2, "6.5.3": 2, "6.5.4": 2, "6.5.5": 2,
	"6.6.1": 2, "6.6.2": 2, "6.6.3": 2,
	"6.8.1": 2, "6.8.2": 2, "6.8.3": 2, "6.8.4": 2,
	"7.1.1": 2, "7.1.2": 2, "7.1.3": 2,
	"7.2.1": 1, "7.2.2": 1, "7.2.3": 1, "7.2.4": 1,
	"7.3.1": 2, "7.3.2": 2,
	"7.4.1": 1, "7.4.2": 1, "7.4.3": 2, "7.4.4": 2, "7.4.5": 2,
	"7.5.1": 2, "7.5.2": 2,
	"7.6.1": 2, "7.6.2": 2,
}

var (
	codeSpan = regexp.MustCompile("`([^`]*)`")
	// testRef is how a row names a test: package directory, a dot, the test function, and
	// perhaps its subtests ("store/sqlite.TestConformance/OIDCToken/IssueIsRefused…").
	testRef = regexp.MustCompile(`^([a-z][a-z0-9]*(?:/[a-z][a-z0-9]*)*)\.(Test[A-Za-z0-9_]*)((?:/[A-Za-z0-9_-]+)*)$`)
)

func TestSecurityDocCoversASVSWithTestsThatExist(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkASVSTable(string(doc), filepath.Join("..", "..")) {
		t.Error(p)
	}
}

// The checker itself: a row naming a test that does not exist, a missing row, a wrong level
// and a row without tests or a reason are each reported.
func TestSecurityDocCheckerCatchesBadRows(t *testing.T) {
	root := filepath.Join("..", "..")
	var rows strings.Builder
	for id, level := range asvsLevels {
		switch id {
		case "6.2.1":
			fmt.Fprintf(&rows, "| %s | %d | r | h | `password.TestNoSuchTest` |\n", id, level)
		case "6.2.2":
			fmt.Fprintf(&rows, "| %s | %d | r | h | `store/sqlite.TestConformance/NoSuchGroup` |\n", id, level)
		case "6.2.3":
			fmt.Fprintf(&rows, "| %s | 2 | r | h | `password.TestPasswordRules` |\n", id)
		case "6.2.4":
			fmt.Fprintf(&rows, "| %s | %d | r | h | — |\n", id, level)
		case "6.2.5":
		default:
			fmt.Fprintf(&rows, "| %s | %d | r | Not applicable. | — |\n", id, level)
		}
	}
	doc := asvsSection + "\n\n| # | L | Requirement | How | Tests |\n|---|---|---|---|---|\n" + rows.String()
	got := strings.Join(checkASVSTable(doc, root), "\n")
	for _, want := range []string{
		"6.2.1: password.TestNoSuchTest: no func TestNoSuchTest in password",
		`6.2.2: store/sqlite.TestConformance/NoSuchGroup: no subtest "NoSuchGroup"`,
		"6.2.3: level 2, but ASVS 5.0.0 says 1",
		"6.2.4: names no test and does not say why",
		"6.2.5: no row",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems\n%s\nlack %q", got, want)
		}
	}
	if strings.Count(got, "\n")+1 != 5 {
		t.Errorf("want exactly 5 problems, got\n%s", got)
	}
}

// checkASVSTable returns what is wrong with the ASVS section of doc; root is the repository.
func checkASVSTable(doc, root string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	_, section, ok := strings.Cut(doc, asvsSection+"\n")
	if !ok {
		return []string{"docs/SECURITY.md has no section " + asvsSection}
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	seen := map[string]bool{}
	inTable := false
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) >= 2 && cells[0] == "#" && cells[1] == "L" {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(cells[0], "---") {
			continue
		}
		if len(cells) != 5 {
			bad("row %q has %d cells, want 5 (#, L, requirement, how, tests)", line, len(cells))
			continue
		}
		id, how, tests := cells[0], cells[3], cells[4]
		want, known := asvsLevels[id]
		switch {
		case !known:
			bad("%s: not a Level 1 or 2 requirement of ASVS 5.0.0 V6 or V7", id)
			continue
		case seen[id]:
			bad("%s: two rows", id)
		case cells[1] != fmt.Sprint(want):
			bad("%s: level %s, but ASVS 5.0.0 says %d", id, cells[1], want)
		}
		seen[id] = true
		refs := codeSpan.FindAllStringSubmatch(tests, -1)
		if len(refs) == 0 {
			if tests != "—" || !(strings.Contains(how, "Not applicable") || strings.Contains(how, "No test yet")) {
				bad("%s: names no test and does not say why (\"Not applicable\" or \"No test yet\", tests \"—\")", id)
			}
			continue
		}
		for _, r := range refs {
			if msg := checkTestRef(root, r[1]); msg != "" {
				bad("%s: %s: %s", id, r[1], msg)
			}
		}
	}
	for id := range asvsLevels {
		if !seen[id] {
			bad("%s: no row", id)
		}
	}
	return problems
}

// checkTestRef says what is wrong with a test named as package.TestName[/subtest…], or "".
// The function must be declared in a _test.go file of that package's directory; each subtest
// must be a string literal in that directory's tests or in the conformance suite.
func checkTestRef(root, ref string) string {
	m := testRef.FindStringSubmatch(ref)
	if m == nil {
		return "not of the form package.TestName"
	}
	pkg, name, subs := m[1], m[2], strings.Split(strings.TrimPrefix(m[3], "/"), "/")
	tests, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*_test.go"))
	if err != nil || len(tests) == 0 {
		return "no test files in " + pkg
	}
	suite, _ := filepath.Glob(filepath.Join(root, "store", "storetest", "*.go"))
	decl := regexp.MustCompile(`(?m)^func ` + name + `\(t \*testing\.T\) \{`)
	var found bool
	var all strings.Builder
	for _, f := range append(tests, suite...) {
		src, err := os.ReadFile(f)
		if err != nil {
			return err.Error()
		}
		if strings.HasSuffix(f, "_test.go") && filepath.Dir(f) == filepath.Join(root, filepath.FromSlash(pkg)) &&
			decl.Match(src) {
			found = true
		}
		all.Write(src)
	}
	if !found {
		return fmt.Sprintf("no func %s in %s", name, pkg)
	}
	for _, s := range subs {
		if s != "" && !strings.Contains(all.String(), `"`+s+`"`) {
			return fmt.Sprintf("no subtest %q", s)
		}
	}
	return ""
}
