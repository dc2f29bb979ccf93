package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvironmentOverridesFileAndDefaults(t *testing.T) {
	c := mustLoad(t, "listen: 127.0.0.1:9000\nsites:\n  live: {}\n  training: {policy: {lockout: {threshold: 4}}}\n",
		"PATH=/usr/bin",                // not ours: ignored
		"hmisauth_listen=ignored:1",    // variable names are case-sensitive, as on Unix
		"HMISAUTH_LISTEN=0.0.0.0:8443", // scalar, over the file
		"HMISAUTH_PUBLIC_URL=https://hmis.example.org",
		"HMISAUTH_DATABASE=postgres://hmis:p%23ss@db/hmis",
		"HMISAUTH_MAIL_TRANSPORT=smtp",
		"HMISAUTH_MAIL_DIR=/var/mail/hmis",
		"HMISAUTH_MAIL_SMTP_PASSWORD=#not: a [comment",
		"HMISAUTH_MAIL_SMTP_USERNAME=relay",
		"HMISAUTH_MAIL_SMTP_PORT=465",
		"HMISAUTH_PASSWORD_HASH_MEMORY_KIB=65536",
		"HMISAUTH_PASSWORD_HASH_QUEUE_WAIT=2s",
		"HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_THRESHOLD=5",
		"HMISAUTH_SITES_LIVE_POLICY_RESET_LINK_TTL=30m",
		"HMISAUTH_SITES_LIVE_POLICY_SESSION_SINGLE=true",
		"HMISAUTH_SITES_TRAINING_POLICY_PASSWORD_REQUIRE=[upper, digit]",
		"HMISAUTH_SITES_TRAINING_HELPDESK_PHONE=555-0100",
		"HMISAUTH_LOG_FORMAT=json",
	)
	live, training := c.Sites["live"], c.Sites["training"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "0.0.0.0:8443"},
		{"public_url", c.PublicURL, "https://hmis.example.org"},
		{"database", c.Database, "postgres://hmis:p%23ss@db/hmis"},
		{"mail.transport", c.Mail.Transport, "smtp"},
		{"mail.dir", c.Mail.Dir, "/var/mail/hmis"},
		{"mail.smtp.password", c.Mail.SMTP.Password, "#not: a [comment"},
		{"mail.smtp.port", c.Mail.SMTP.Port, 465},
		{"password_hash.memory_kib", c.PasswordHash.MemoryKiB, uint32(65536)},
		{"password_hash.queue_wait", c.PasswordHash.QueueWait, 2 * time.Second},
		{"live threshold", live.Policy.Lockout.Threshold, 5},
		{"live reset_link_ttl", live.Policy.ResetLinkTTL, 30 * time.Minute},
		{"live single", live.Policy.Session.Single, true},
		{"training threshold (file)", training.Policy.Lockout.Threshold, 4},
		{"training require", training.Policy.Password.Require, []string{"upper", "digit"}},
		{"training phone", training.Helpdesk.Phone, "555-0100"},
		{"log.format", c.Log.Format, "json"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if !c.Secure() {
		t.Error("Secure() false with an https public_url")
	}
}

func TestListenFromEnvironmentMovesDefaultPublicURL(t *testing.T) {
	c := mustLoad(t, "", "HMISAUTH_LISTEN=:9090")
	if c.PublicURL != "http://localhost:9090" {
		t.Errorf("public_url = %q", c.PublicURL)
	}
}

func TestEnvironmentErrorsNameTheVariable(t *testing.T) {
	tests := []struct{ name, env, want string }{
		{"unknown", "HMISAUTH_LISTN=:8080", "config: HMISAUTH_LISTN matches no configuration key"},
		{"a group, not a key", "HMISAUTH_MAIL={}", "config: HMISAUTH_MAIL matches no configuration key"},
		{"site not in file", "HMISAUTH_SITES_DEMO_NAME=Demo", "HMISAUTH_SITES_DEMO_NAME matches no configuration key (sites are defined in the configuration file; these exist: live, training)"},
		{"computed field", "HMISAUTH_DATA_DIR=/tmp", "HMISAUTH_DATA_DIR matches no configuration key"},
		{"bad number", "HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_THRESHOLD=three",
			`config: HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_THRESHOLD (sites.live.policy.lockout.threshold) must be a whole number, not "three"`},
		{"bad duration", "HMISAUTH_SITES_LIVE_POLICY_RESET_LINK_TTL=15",
			"HMISAUTH_SITES_LIVE_POLICY_RESET_LINK_TTL (sites.live.policy.reset_link_ttl) must be a duration"},
		{"bad list", "HMISAUTH_SITES_LIVE_POLICY_RECOVERY=[email",
			"HMISAUTH_SITES_LIVE_POLICY_RECOVERY (sites.live.policy.recovery) must be a list like [a, b]"},
		{"empty number", "HMISAUTH_PASSWORD_HASH_QUEUE=", "HMISAUTH_PASSWORD_HASH_QUEUE (password_hash.queue) must be a whole number, not empty"},
		{"valid syntax, impossible value", "HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_THRESHOLD=0",
			"config: sites.live.policy.lockout.threshold must be at least 1 (set by HMISAUTH_SITES_LIVE_POLICY_LOCKOUT_THRESHOLD)"},
		{"impossible text", "HMISAUTH_MAIL_TRANSPORT=smpt", `config: mail.transport must be one of dev, file, smtp, not "smpt" (set by HMISAUTH_MAIL_TRANSPORT)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErr(t, "", tt.env); !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestHyphenatedSiteKeys(t *testing.T) {
	c := mustLoad(t, "sites: {coc-east: {}}\n", "HMISAUTH_SITES_COC_EAST_NAME=East CoC")
	if c.Sites["coc-east"].Name != "East CoC" {
		t.Errorf("name = %q", c.Sites["coc-east"].Name)
	}
}

// TestAmbiguousVariableIsRefused guards key names added later: were a site leaf "b_name" to
// exist beside "name", site "a" key "b_name" and site "a-b" key "name" would share a variable,
// and guessing which one the operator meant could change the wrong site.
func TestAmbiguousVariableIsRefused(t *testing.T) {
	type leaves struct {
		Name  string `yaml:"name"`
		BName string `yaml:"b_name"`
	}
	root := struct {
		Sites map[string]*leaves `yaml:"sites"`
	}{Sites: map[string]*leaves{"a": {}, "a-b": {}}}
	targets := envTargets(reflect.ValueOf(&root).Elem())
	got := targets["HMISAUTH_SITES_A_B_NAME"]
	if got == nil || got.path != "sites.a.b_name" || !reflect.DeepEqual(got.others, []string{"sites.a-b.name"}) {
		t.Fatalf("target = %+v, want sites.a.b_name clashing with sites.a-b.name", got)
	}
	l := &loader{where: map[string]string{}}
	l.reportEnv(targets, map[string]string{"HMISAUTH_SITES_A_B_NAME": "x"}, nil)
	if len(l.errs) != 1 || !strings.Contains(l.errs[0].Error(), "HMISAUTH_SITES_A_B_NAME is ambiguous: it could set sites.a.b_name or sites.a-b.name") {
		t.Errorf("errors = %v", l.errs)
	}
}

// TestEveryKeyHasAVariable keeps the override rule true as keys are added: each leaf of the
// defaults must be reachable by its documented variable name.
func TestEveryKeyHasAVariable(t *testing.T) {
	targets := envTargets(reflectValue(defaults("data")))
	for _, name := range []string{
		"HMISAUTH_LISTEN", "HMISAUTH_PUBLIC_URL", "HMISAUTH_DATABASE", "HMISAUTH_MAIL_TRANSPORT",
		"HMISAUTH_MAIL_DIR", "HMISAUTH_MAIL_FROM", "HMISAUTH_MAIL_SMTP_HOST", "HMISAUTH_MAIL_SMTP_TLS",
		"HMISAUTH_MAIL_DKIM_PRIVATE_KEY_FILE", "HMISAUTH_PASSWORD_HASH_MEMORY_KIB",
		"HMISAUTH_PASSWORD_HASH_CONCURRENCY", "HMISAUTH_LOG_LEVEL", "HMISAUTH_SITES_LIVE_NAME",
		"HMISAUTH_SITES_LIVE_TIMEZONE", "HMISAUTH_SITES_LIVE_HELPDESK_HOURS",
		"HMISAUTH_SITES_TRAINING_POLICY_PASSWORD_FORBIDDEN_WORDS", "HMISAUTH_SITES_LIVE_POLICY_TERMS_TEXT_FILE",
		"HMISAUTH_SITES_LIVE_POLICY_MFA_REMEMBER_DEVICE_DAYS", "HMISAUTH_SITES_LIVE_POLICY_INACTIVE_LOCK_DAYS",
		"HMISAUTH_SECRET_KEY", "HMISAUTH_SECRET_KEY_FILE",
	} {
		if targets[name] == nil {
			t.Errorf("no key for %s", name)
		}
	}
	for name := range targets {
		secret := name == "HMISAUTH_SECRET_KEY" || name == "HMISAUTH_SECRET_KEY_FILE" || name == "HMISAUTH_OIDC_KEY_ROTATION"
		if strings.Contains(name, "_KEY") && !strings.HasSuffix(name, "_PRIVATE_KEY_FILE") && !secret ||
			strings.HasSuffix(name, "_LOCATION") || strings.HasSuffix(name, "_TEXT") {
			t.Errorf("%s sets a computed field", name)
		}
	}
}
