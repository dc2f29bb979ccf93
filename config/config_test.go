package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// writeConfig writes text as a configuration file in a fresh directory and returns its path.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hmisauth.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustLoad loads text (no file when text is "") and fails the test on any error.
func mustLoad(t *testing.T, text string, environ ...string) *Config {
	t.Helper()
	path := ""
	if text != "" {
		path = writeConfig(t, text)
	}
	c, err := Load(path, "data", environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// loadErr loads text and returns the error text, failing the test if it loaded.
func loadErr(t *testing.T, text string, environ ...string) string {
	t.Helper()
	path := ""
	if text != "" {
		path = writeConfig(t, text)
	}
	c, err := Load(path, "data", environ)
	if err == nil {
		t.Fatalf("Load succeeded, want an error; got %+v", c)
	}
	return err.Error()
}

func TestNoFileGivesLiveAndTrainingSites(t *testing.T) {
	c := mustLoad(t, "")
	checks := []struct{ name, got, want string }{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"public_url", c.PublicURL, "http://localhost:8080"},
		{"database", c.Database, "sqlite:" + filepath.Join("data", "hmisauth.db")},
		{"mail.transport", c.Mail.Transport, "dev"},
		{"mail.dir", c.Mail.Dir, filepath.Join("data", "mail")},
		{"mail.from", c.Mail.From, "HMIS Helpdesk <donotreply@localhost>"},
		{"mail.smtp.tls", c.Mail.SMTP.TLS, "starttls"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"site keys", strings.Join(c.SiteKeys, ","), "live,training"},
		{"data dir", c.DataDir, "data"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.Mail.SMTP.Port != 587 {
		t.Errorf("mail.smtp.port = %d, want 587", c.Mail.SMTP.Port)
	}
	wantHash := password.DefaultOptions()
	if c.PasswordHash != wantHash {
		t.Errorf("password_hash = %+v, want %+v", c.PasswordHash, wantHash)
	}
	if c.Secure() {
		t.Error("Secure() with an http public_url")
	}
	for key, want := range map[string]struct {
		name     string
		training bool
	}{"live": {"HMIS Live", false}, "training": {"HMIS Training", true}} {
		s, ok := c.Site(key)
		if !ok {
			t.Fatalf("no %s site", key)
		}
		if s.Key != key || s.Name != want.name || s.Training != want.training {
			t.Errorf("site %s = key %q name %q training %v", key, s.Key, s.Name, s.Training)
		}
		if s.Location == nil || s.Location.String() != "America/Chicago" || s.Helpdesk.Email != "helpdesk@example.org" {
			t.Errorf("site %s: location %v helpdesk %q", key, s.Location, s.Helpdesk.Email)
		}
		if !reflect.DeepEqual(s.Policy.Password, hmisauth.DefaultPolicy().Password) || s.Policy.Session != hmisauth.DefaultPolicy().Session {
			t.Errorf("site %s policy = %+v, want the default", key, s.Policy)
		}
		if s.Policy.Terms.Text != DefaultTerms() || !strings.Contains(s.Policy.Terms.Text, "helpdesk") {
			t.Errorf("site %s terms = %q, want the built-in text", key, s.Policy.Terms.Text)
		}
	}
	if _, ok := c.Site("nope"); ok {
		t.Error(`Site("nope") found a site`)
	}
}

func TestSitesDoNotShareDefaults(t *testing.T) {
	c := mustLoad(t, "")
	c.Sites["live"].Policy.Password.Require[0] = "changed"
	if c.Sites["training"].Policy.Password.Require[0] == "changed" {
		t.Error("the live and training sites share one require list")
	}
}

func TestContractExampleLoads(t *testing.T) {
	c, err := Load("testdata/contract.yaml", "data", nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Database != "sqlite:./hmisauth-data/hmisauth.db" || c.Mail.Dir != "./mail" || c.Mail.From != "HMIS Helpdesk <donotreply@example.org>" {
		t.Errorf("relative paths must be kept as given: database %q, mail.dir %q, from %q", c.Database, c.Mail.Dir, c.Mail.From)
	}
	live, training := c.Sites["live"], c.Sites["training"]
	if live.Policy.Lockout.AutoUnlockAfter != 0 || live.Policy.ResetLinkTTL != 15*time.Minute || live.Training {
		t.Errorf("live = %+v", live)
	}
	if training == nil || !training.Training || training.Name != "HMIS Training" || training.Policy.Lockout.Threshold != 3 {
		t.Errorf("training = %+v", training)
	}
}

func TestPartialSiteTakesDefaults(t *testing.T) {
	c := mustLoad(t, `
public_url: https://hmis.example.org/
sites:
  live:
    policy:
      password: {min_length: 15, require: [], max_age_days: 0}
      lockout: {auto_unlock_after: 30m}
  demo:
    helpdesk: {phone: 555-0100}
`)
	if strings.Join(c.SiteKeys, ",") != "demo,live" {
		t.Fatalf("sites = %v, want exactly the file's", c.SiteKeys)
	}
	live := c.Sites["live"]
	pw := live.Policy.Password
	if pw.MinLength != 15 || len(pw.Require) != 0 || pw.MaxAgeDays != 0 || pw.MaxLength != 50 || pw.History != 5 {
		t.Errorf("live password = %+v", pw)
	}
	if live.Policy.Lockout.Threshold != 3 || live.Policy.Lockout.AutoUnlockAfter != 30*time.Minute {
		t.Errorf("live lockout = %+v", live.Policy.Lockout)
	}
	if live.Name != "HMIS Live" || live.Policy.Session.Idle != 30*time.Minute {
		t.Errorf("live = %+v", live)
	}
	demo := c.Sites["demo"]
	if demo.Name != "HMIS Demo" || demo.Helpdesk.Email != "helpdesk@example.org" || demo.Helpdesk.Phone != "555-0100" {
		t.Errorf("demo = %+v", demo)
	}
	if c.PublicURL != "https://hmis.example.org" || !c.Secure() {
		t.Errorf("public_url = %q secure %v", c.PublicURL, c.Secure())
	}
}

func TestEmptyValueKeepsDefault(t *testing.T) {
	c := mustLoad(t, "listen:\nsites:\n  live:\n    policy:\n      lockout:\n        threshold: ~\n")
	if c.Listen != "127.0.0.1:8080" || c.Sites["live"].Policy.Lockout.Threshold != 3 {
		t.Errorf("listen %q threshold %d", c.Listen, c.Sites["live"].Policy.Lockout.Threshold)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	c := mustLoad(t, `
sites:
  live: &live
    name: Sunrise HMIS
    policy: {lockout: {threshold: 5}}
  training:
    <<: *live
    name: Sunrise Training
`)
	tr := c.Sites["training"]
	if tr.Name != "Sunrise Training" || tr.Policy.Lockout.Threshold != 5 || !tr.Training {
		t.Errorf("training = %+v", tr)
	}
}

func TestUnknownKeyIsRefusedWithItsPath(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"top", "lissen: :8080\n", `config: unknown key "lissen" (line 1)`},
		{"mail", "mail:\n  smpt: {}\n", `config: unknown key "mail.smpt" (line 2)`},
		{"nested site", "sites:\n  live:\n    policy:\n      lockout:\n        treshold: 4\n",
			`config: unknown key "sites.live.policy.lockout.treshold" (line 5)`},
		{"in a merged mapping", "sites:\n  live:\n    <<: {nmae: x}\n", `config: unknown key "sites.live.nmae" (line 3)`},
		{"yaml:- field", "data_dir: x\n", `unknown key "data_dir"`},
		{"computed field", "sites:\n  live:\n    location: UTC\n", `unknown key "sites.live.location"`},
		{"twice", "listen: :1\nlisten: :2\n", `key "listen" is set twice (lines 1 and 2)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErr(t, tt.text); !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestMalformedFilesAreRefused(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"not yaml", "listen: [\n", "is not valid YAML"},
		{"not a mapping", "- a\n- b\n", "the file must be a group of keys"},
		{"two documents", "listen: :1\n---\nlisten: :2\n", "one YAML document"},
		{"wrong type", "sites:\n  live:\n    policy:\n      lockout: {threshold: three}\n",
			`sites.live.policy.lockout.threshold must be a whole number, not "three" (line 4)`},
		{"list for text", "listen: [a]\n", "listen must be text, not a list (line 1)"},
		{"bare number duration", "sites: {live: {policy: {reset_link_ttl: 15}}}\n",
			`sites.live.policy.reset_link_ttl must be a duration like 15m, 72h or 0s, not "15"`},
		{"sites not a mapping", "sites: [live]\n", "sites must be a group of sites"},
		{"bad site key", "sites:\n  Live: {}\n", `site key "Live" must start with a lower-case letter`},
		{"reserved site key", "sites:\n  api: {}\n", `site key "api" is reserved`},
		{"site key characters", "sites:\n  a_b: {}\n", `site key "a_b" may contain only`},
		{"no sites", "sites: {}\n", "sites must define at least one site"},
		{"negative uint", "password_hash: {parallelism: -1}\n", "password_hash.parallelism must be a whole number from 0 to 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErr(t, tt.text); !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestMissingFileIsRefused(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), "data", nil); err == nil || !strings.Contains(err.Error(), "config: ") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(t.TempDir(), "data", nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as config: err = %v", err)
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	c, err := Load(writeConfig(t, "# nothing yet\n"), "data", nil)
	if err != nil || len(c.Sites) != 2 {
		t.Fatalf("Load = %v, %v", c, err)
	}
}

func TestTermsTextFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "terms.txt"), []byte("\n  Our agreement.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("testdata/terms.txt")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hmisauth.yaml")
	text := "sites:\n  live: {policy: {terms: {version: 3, text_file: terms.txt}}}\n" +
		"  training: {policy: {terms: {text_file: " + abs + "}}}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, "data", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sites["live"].Policy.Terms; got.Text != "Our agreement." || got.Version != 3 {
		t.Errorf("live terms = %+v; want the file next to the config", got)
	}
	if got := c.Sites["training"].Policy.Terms.Text; !strings.HasPrefix(got, "Sunrise CoC HMIS User Agreement") {
		t.Errorf("training terms = %q", got)
	}

	for name, file := range map[string]string{"missing": "nope.txt", "directory": "."} {
		got := loadErr(t, "sites: {live: {policy: {terms: {text_file: "+file+"}}}}\n")
		if !strings.Contains(got, "sites.live.policy.terms.text_file cannot be read") {
			t.Errorf("%s: error = %q", name, got)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := loadErr(t, "sites: {live: {policy: {terms: {text_file: "+empty+"}}}}\n"); !strings.Contains(got, "text_file is empty") {
		t.Errorf("empty terms: error = %q", got)
	}
}

func TestBadTimezone(t *testing.T) {
	tests := []struct{ text, want string }{
		{"sites: {live: {timezone: America/Chicgo}}\n", `config: sites.live.timezone "America/Chicgo" is not a known time zone; use a name like America/Chicago (line 1)`},
		{"sites: {live: {timezone: ''}}\n", "sites.live.timezone must name a time zone"},
		{"sites: {live: {timezone: Local}}\n", "sites.live.timezone must name a time zone"},
		{"sites: {live: {timezone: ../../etc/passwd}}\n", "sites.live.timezone"},
	}
	for _, tt := range tests {
		if got := loadErr(t, tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("error = %q, want it to contain %q", got, tt.want)
		}
	}
	c := mustLoad(t, "sites: {live: {timezone: Europe/Berlin}}\n")
	if c.Sites["live"].Location.String() != "Europe/Berlin" {
		t.Errorf("location = %v", c.Sites["live"].Location)
	}
}

func TestSeveralErrorsReportedTogether(t *testing.T) {
	got := loadErr(t, `
listen: nowhere
mail: {transport: smpt, from: nobody}
sites:
  live:
    policy:
      lockout: {threshold: 0}
      mfa: {required: sometimes}
      lockoutt: {}
`, "HMISAUTH_LISTN=:1")
	for _, want := range []string{
		`config: listen must be HOST:PORT like 127.0.0.1:8080 or :8080, not "nowhere" (line 2)`,
		`config: mail.transport must be one of dev, file, smtp, not "smpt" (line 3)`,
		`config: mail.from must be an address`,
		`config: sites.live.policy.lockout.threshold must be at least 1 (line 7)`,
		`config: sites.live.policy.mfa.required must be one of none, admins, everyone, not "sometimes" (line 8)`,
		`config: unknown key "sites.live.policy.lockoutt" (line 9)`,
		`config: HMISAUTH_LISTN matches no configuration key`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error does not contain %q; error:\n%s", want, got)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		if !strings.HasPrefix(line, "config: ") {
			t.Errorf("line %q does not stand on its own", line)
		}
	}
}
