package main

import "testing"

// TestTakenUsernameOffersAFreeOneOnTheCommandLine: the command line answers a taken username
// like the console, with the next free name made from the person's names.
func TestTakenUsernameOffersAFreeOneOnTheCommandLine(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "South Outreach")
	c.run("user", "create", "--site", "live", "--first", "John", "--last", "Doe", "--agency", "South Outreach")

	_, err := c.try("user", "create", "--site", "live", "--first", "Jane", "--last", "Doe", "--username", "jdoe")
	if want := "The username jdoe cannot be used. jdoe2 is free for this person; use it, or choose another."; err == nil || oneLine(err) != want {
		t.Errorf("create: %v, want %q", err, want)
	}

	_, stderr, err := c.tryWith("", "user", "import", "--site", "live", writeCSV(t, "first,last,username\nJane,Doe,JDoe\n"))
	if want := "row 2: the username JDoe cannot be used; jdoe2 is free — or leave the username empty to have one made\n"; err == nil || stderr != want {
		t.Errorf("import: %v, stderr %q, want %q", err, stderr, want)
	}
}
