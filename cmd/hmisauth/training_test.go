package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserTrainingCommand(t *testing.T) {
	c := newCLI(t)
	config := filepath.Join(t.TempDir(), "hmisauth.yaml")
	if err := os.WriteFile(config, []byte(`sites:
  live:
    name: HMIS Live
    policy:
      training:
        kinds: {new_user: {valid: 0s}, privacy_security: {valid: 365d}}
        required: [new_user, privacy_security]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	with := func(args ...string) []string { return append(args, "--config", config) }
	c.run(with("user", "create", "--site", "live", "--first", "Ann", "--last", "Lee", "--email", "alee@agency.example.org")...)
	var s shown
	c.json(&s, with("user", "show", "--site", "live", "alee")...)
	if s.codes() != "training_missing,training_missing,terms_not_accepted" || !strings.Contains(s.Problems[0].Fix, "hmisauth user training --site live alee --kind new_user") {
		t.Fatalf("before: %+v", s)
	}
	c.json(&s, with("user", "training", "--site", "live", "alee", "--kind", "new_user", "--completed", "2026-01-05")...)
	c.json(&s, with("user", "training", "--site", "live", "alee", "privacy_security", "2020-01-05")...)
	if s.codes() != "training_expired,terms_not_accepted" {
		t.Fatalf("after: %s", s.codes())
	}
	if _, err := c.try(with("user", "training", "--site", "live", "alee", "--kind", "first_aid", "--completed", "2026-01-05")...); err == nil ||
		!strings.Contains(err.Error(), `"first_aid" is not a training HMIS Live records`) {
		t.Errorf("an unknown kind: %v", err)
	}
	log := c.run(with("audit", "export", "--format", "csv")...)
	if n := strings.Count(log, ",training_recorded,"); n != 2 || !strings.Contains(log, "new_user completed 2026-01-05") {
		t.Errorf("audit export has %d training_recorded events:\n%s", n, log)
	}
}
