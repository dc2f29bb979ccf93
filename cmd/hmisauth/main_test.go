package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// cli runs hmisauth in-process on one data folder, as an operator would from a shell.
type cli struct {
	t       *testing.T
	data    string
	environ []string
}

func newCLI(t *testing.T) *cli {
	// The smallest accepted hash cost keeps the suite quick; the rules are the same.
	return &cli{t: t, data: t.TempDir(), environ: []string{"HMISAUTH_PASSWORD_HASH_MEMORY_KIB=8192", "HMISAUTH_PASSWORD_HASH_ITERATIONS=1"}}
}

// run executes one command and returns its stdout, failing the test on error.
func (c *cli) run(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatalf("hmisauth %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (c *cli) try(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := newRootCmd(&stdout, &stderr, c.environ)
	cmd.SetArgs(append(args, "--data", c.data))
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), err
}

func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.run(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("hmisauth %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

type shown struct {
	Username       string
	Status         string
	FailedAttempts int     `json:"failed_attempts"`
	LockedAt       *string `json:"locked_at"`
	Problems       []struct{ Code, Fix string }
}

func (s shown) codes() string {
	var out []string
	for _, p := range s.Problems {
		out = append(out, p.Code)
	}
	return strings.Join(out, ",")
}

func TestUserCreatePrintsUsernameAndTemporaryPassword(t *testing.T) {
	c := newCLI(t)
	var created struct {
		Username          string
		TemporaryPassword string `json:"temporary_password"`
	}
	out := c.run("user", "create", "--site", "live", "--first", "José", "--last", "Núñez", "--email", "jnunez@agency.example.org")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Username != "jnunez" || len(created.TemporaryPassword) < 16 {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	out = c.run("user", "create", "--site", "live", "--first", "Jane", "--last", "Nunez")
	if !strings.Contains(out, `"jnunez2"`) {
		t.Fatalf("second Nunez: %s", out)
	}
	var s shown
	c.json(&s, "user", "show", "--site", "live", "JNUNEZ")
	if s.Username != "jnunez" || s.Status != "active" || s.codes() != "terms_not_accepted" {
		t.Fatalf("show: %+v", s)
	}
	c.json(&s, "user", "show", "--site", "live", "jnunez2")
	if s.codes() != "terms_not_accepted,no_email" {
		t.Fatalf("problems without an e-mail: %s", s.codes())
	}
	if _, err := c.try("user", "update", "--site", "live", "jnunez2", "--email", "jane at agency"); err == nil {
		t.Fatal("a malformed e-mail address was accepted")
	}
	c.json(&s, "user", "update", "--site", "live", "jnunez2", "--email", "jnunez2@agency.example.org")
	if s.codes() != "terms_not_accepted" {
		t.Fatalf("problems after adding an e-mail: %s", s.codes())
	}
}

func TestErrorsAreOneLineAndNonZero(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "show", "--site", "live", "nobody"}, `There is no user "nobody" on HMIS Live.`},
		{[]string{"user", "create", "--site", "live", "--first", "A", "--last", "B", "--email", "nope"}, "Enter an e-mail address"},
		{[]string{"user", "create", "--site", "moon", "--first", "A", "--last", "B"}, `There is no site called "moon".`},
		{[]string{"agency", "create", "--site", "live", "--name", "X", "--license-expires", "31/12/2026"}, "--license-expires must be a real date"},
	} {
		_, err := c.try(tc.args...)
		if err == nil || !strings.Contains(oneLine(err), tc.want) || strings.Contains(oneLine(err), "\n") {
			t.Errorf("%v: error %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
}

func TestUnknownConfigKeyStopsWithTheKeyNamed(t *testing.T) {
	c := newCLI(t)
	c.environ = append(c.environ, "HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_TRESHOLD=5")
	_, err := c.try("migrate")
	if err == nil || !strings.Contains(oneLine(err), "HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_TRESHOLD") {
		t.Fatalf("err = %v", err)
	}
}

func TestAgencyCommands(t *testing.T) {
	c := newCLI(t)
	c.run("agency", "create", "--site", "live", "--name", "Hope Shelter", "--seats", "1", "--license-expires", "2020-06-30")
	c.run("user", "create", "--site", "live", "--first", "Ann", "--last", "Lee", "--agency", "hope shelter")
	if _, err := c.try("user", "create", "--site", "live", "--first", "Bo", "--last", "Lee", "--agency", "Hope Shelter"); err == nil || !strings.Contains(oneLine(err), "no free seats") {
		t.Fatalf("seat limit: %v", err)
	}
	var s shown
	c.json(&s, "user", "show", "--site", "live", "alee")
	if !strings.Contains(s.codes(), "license_expired") {
		t.Fatalf("expired license not shown: %s", s.codes())
	}
	c.run("agency", "update", "--site", "live", "--name", "Hope Shelter", "--seats", "2", "--license-expires", "2099-06-30", "--rename", "Hope Center")
	var list []struct {
		Name           string
		Seats          int
		LicenseExpires string `json:"license_expires"`
	}
	c.json(&list, "agency", "list", "--site", "live")
	if len(list) != 1 || list[0].Name != "Hope Center" || list[0].Seats != 2 || list[0].LicenseExpires != "2099-06-30" {
		t.Fatalf("list: %+v", list)
	}
	c.json(&s, "user", "show", "--site", "live", "alee")
	if strings.Contains(s.codes(), "license_expired") {
		t.Fatalf("renewed license still shown: %s", s.codes())
	}
}

func TestUserStepCommands(t *testing.T) {
	c := newCLI(t)
	c.run("user", "create", "--site", "live", "--first", "Ann", "--last", "Lee", "--email", "alee@agency.example.org")
	var s shown
	c.json(&s, "user", "disable", "--site", "live", "alee")
	if s.Status != "disabled" || !strings.Contains(s.codes(), "disabled") {
		t.Fatalf("disable: %+v", s)
	}
	c.json(&s, "user", "enable", "--site", "live", "alee")
	if s.Status != "active" {
		t.Fatalf("enable: %+v", s)
	}
	c.json(&s, "user", "agreement", "--site", "live", "alee", "--signed", "2020-01-01")
	if !strings.Contains(s.codes(), "agreement_expired") {
		t.Fatalf("agreement: %s", s.codes())
	}
	c.run("user", "expire-password", "--site", "live", "alee")
	out := c.run("user", "temp-password", "--site", "live", "alee")
	if !strings.Contains(out, `"temporary_password"`) {
		t.Fatalf("temp-password printed %q", out)
	}
	// Each step is in the audit log, as done from the command line by this operator.
	log := c.run("audit", "export", "--format", "csv")
	for _, action := range []string{"user_created", "user_disabled", "user_enabled", "agreement_recorded",
		"password_expired_by_admin", "temporary_password_set"} {
		if !strings.Contains(log, ","+action+",") {
			t.Errorf("audit export lacks %s:\n%s", action, log)
		}
	}
	if !strings.Contains(log, ",cli:"+operator()+",") {
		t.Errorf("audit export does not name the operator cli:%s:\n%s", operator(), log)
	}
	var temp struct {
		TemporaryPassword string `json:"temporary_password"`
	}
	if err := json.Unmarshal([]byte(out), &temp); err != nil || temp.TemporaryPassword == "" {
		t.Fatalf("temp-password printed %q", out)
	}
	if strings.Contains(log, temp.TemporaryPassword) {
		t.Error("the temporary password reached the audit log")
	}
	c.run("audit", "verify")
}

// serveInBackground runs `hmisauth serve` in-process on c's data until the test ends, and
// returns its base URL once it is ready.
func (c *cli) serveInBackground() string { return c.serveInBackgroundOn("127.0.0.1") }

// serveInBackgroundOn is serveInBackground listening on a free port of host.
func (c *cli) serveInBackgroundOn(host string) string {
	t := c.t
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	addr := net.JoinHostPort(host, port)
	ln.Close()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	var serveOut bytes.Buffer
	go func() {
		cmd := newRootCmd(&serveOut, &bytes.Buffer{}, c.environ)
		cmd.SetArgs([]string{"serve", "--listen", addr, "--data", c.data})
		served <- cmd.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		// Read only once serve has returned: it writes to the buffer while it runs.
		if !strings.Contains(serveOut.String(), "First administrator for HMIS Live") {
			t.Errorf("serve did not announce the first administrator:\n%s", serveOut.String())
		}
	})
	base := "http://" + addr
	waitReady(t, base)
	return base
}

// TestCommandsWorkWhileTheServerRuns locks an account through a running server's API, then
// diagnoses and unlocks it from the command line on the same data, as the helpdesk would.
func TestCommandsWorkWhileTheServerRuns(t *testing.T) {
	c := newCLI(t)
	base := c.serveInBackground()

	var created struct {
		Username          string
		TemporaryPassword string `json:"temporary_password"`
	}
	json.Unmarshal([]byte(c.run("user", "create", "--site", "live", "--first", "Maria", "--last", "Lopez")), &created)
	login := func(pw string) int {
		body := fmt.Sprintf(`{"username":%q,"password":%q}`, created.Username, pw)
		resp, err := http.Post(base+"/api/v1/sites/live/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 3 {
		login("Wrong-guess-1")
	}
	var s shown
	c.json(&s, "user", "show", "--site", "live", created.Username)
	if s.Status != "locked" || s.FailedAttempts != 3 || s.LockedAt == nil || !strings.HasPrefix(s.codes(), "locked") {
		t.Fatalf("after 3 failures: %+v", s)
	}
	if status := login(created.TemporaryPassword); status != http.StatusLocked {
		t.Fatalf("locked account answered %d", status)
	}
	c.run("user", "unlock", "--site", "live", created.Username)
	if status := login(created.TemporaryPassword); status != http.StatusOK {
		t.Fatalf("after unlock: %d", status)
	}
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
}

// TestServeDeliversResetLinks follows a forgot-password request through the running server's
// own background work: the request is handled, the link queued and delivered to /dev/mail.
func TestServeDeliversResetLinks(t *testing.T) {
	c := newCLI(t)
	base := c.serveInBackground()
	c.run("user", "create", "--site", "live", "--first", "Maria", "--last", "Lopez", "--email", "maria@agency.example.org")
	resp, err := http.Post(base+"/api/v1/sites/live/password/forgot", "application/json", strings.NewReader(`{"username":"mlopez"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("forgot answered %d", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/dev/mail")
		if err != nil {
			t.Fatal(err)
		}
		var page bytes.Buffer
		page.ReadFrom(resp.Body)
		resp.Body.Close()
		if strings.Contains(page.String(), "/live/reset-password?token=") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no reset e-mail reached /dev/mail")
}
