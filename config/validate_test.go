package config

import (
	"strings"
	"testing"
)

// site wraps policy YAML in the live site, so each case below reads as the line an operator
// would write.
func site(policy string) string {
	return "sites:\n  live:\n    policy:\n      " + policy + "\n"
}

func TestImpossibleValuesAreRefusedByKey(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"listen without port", "listen: localhost\n", "config: listen must be HOST:PORT"},
		{"listen port too big", "listen: :70000\n", "config: listen must be HOST:PORT"},
		{"public_url relative", "public_url: /auth\n", "config: public_url must be an absolute http:// or https:// URL"},
		{"public_url ftp", "public_url: ftp://example.org\n", "config: public_url must be an absolute"},
		{"public_url query", "public_url: https://example.org/?a=b\n", "config: public_url must not have a query"},
		{"public_url user", "public_url: https://me:pw@example.org\n", "config: public_url must not contain a user name"},
		{"database scheme", "database: mysql://db\n", "config: database must start with sqlite: or postgres://"},
		{"database sqlite empty", "database: 'sqlite:'\n", "config: database must name a file after sqlite:"},
		{"mail transport", "mail: {transport: pigeon}\n", `config: mail.transport must be one of dev, file, smtp, not "pigeon"`},
		{"mail from", "mail: {from: 'not an address'}\n", "config: mail.from must be an address"},
		{"smtp without host", "mail: {transport: smtp, smtp: {host: ''}}\n", "config: mail.smtp.host must be set when mail.transport is smtp"},
		{"smtp port", "mail: {smtp: {port: 0}}\n", "config: mail.smtp.port must be from 1 to 65535"},
		{"smtp tls", "mail: {smtp: {tls: ssl}}\n", `config: mail.smtp.tls must be one of starttls, tls, none, not "ssl"`},
		{"smtp password alone", "mail: {smtp: {password: x}}\n", "config: mail.smtp.username must be set when mail.smtp.password is"},
		{"dkim half set", "mail: {dkim: {domain: example.org, selector: s1}}\n", "config: mail.dkim.private_key_file must be set too"},
		{"secret key too short", "secret_key: c2hvcnQ=\n", "config: secret_key must be 32 bytes written in base64 (44 characters), not 5 bytes"},
		{"secret key not base64", "secret_key: \"not a key!\"\n", "config: secret_key must be 32 bytes written in base64"},
		{"secret key twice", "secret_key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nsecret_key_file: k\n", "config: secret_key and secret_key_file are both set"},
		{"hash memory", "password_hash: {memory_kib: 1024}\n", "config: password_hash.memory_kib must be at least 8192 (8 MiB)"},
		{"hash iterations", "password_hash: {iterations: 0}\n", "config: password_hash.iterations must be between 1 and 20"},
		{"hash parallelism", "password_hash: {parallelism: 17}\n", "config: password_hash.parallelism must be between 1 and 16"},
		{"hash concurrency", "password_hash: {concurrency: -1}\n", "config: password_hash.concurrency must be between 0 (one per CPU) and 1024"},
		{"hash queue", "password_hash: {queue: -1}\n", "config: password_hash.queue must be 0 or more"},
		{"hash queue_wait", "password_hash: {queue_wait: -1s}\n", "config: password_hash.queue_wait must be 0s or more"},
		{"log level", "log: {level: verbose}\n", "config: log.level must be one of debug, info, warn, error"},
		{"log format", "log: {format: xml}\n", "config: log.format must be one of text, json"},
		{"site name", "sites: {live: {name: ' '}}\n", "config: sites.live.name must not be empty"},
		{"helpdesk email", "sites: {live: {helpdesk: {email: 'call us'}}}\n", "config: sites.live.helpdesk.email must be a plain address"},
		{"min_length", site("password: {min_length: 0}"), "config: sites.live.policy.password.min_length must be at least 1 (line 4)"},
		{"max below min", site("password: {min_length: 20, max_length: 10}"), "config: sites.live.policy.password.max_length must be at least password.min_length (20)"},
		{"max too long", site("password: {max_length: 2000}"), "config: sites.live.policy.password.max_length must be from 1 to 1024"},
		{"require", site("password: {require: [upper, emoji]}"), `config: sites.live.policy.password.require may list only upper, lower, digit and symbol, not "emoji"`},
		{"history negative", site("password: {history: -1}"), "config: sites.live.policy.password.history must be from 0 to 24"},
		{"history too long", site("password: {history: 25}"), "config: sites.live.policy.password.history must be from 0 to 24"},
		{"max_age_days", site("password: {max_age_days: -1}"), "config: sites.live.policy.password.max_age_days must be at least 0"},
		{"warn_days negative", site("password: {warn_days: -1}"), "config: sites.live.policy.password.warn_days must be at least 0"},
		{"warn_days too late", site("password: {max_age_days: 7, warn_days: 7}"), "config: sites.live.policy.password.warn_days must be less than password.max_age_days (7)"},
		{"forbidden word empty", site("password: {forbidden_words: [sunrise, '']}"), "config: sites.live.policy.password.forbidden_words must not contain an empty word"},
		{"threshold", site("lockout: {threshold: 0}"), "config: sites.live.policy.lockout.threshold must be at least 1"},
		{"auto unlock", site("lockout: {auto_unlock_after: -5m}"), "config: sites.live.policy.lockout.auto_unlock_after must not be negative"},
		{"inactive_lock_days", site("inactive_lock_days: -1"), "config: sites.live.policy.inactive_lock_days must be at least 0"},
		{"inactivity order", site("inactivity: [{after: 90d, action: lock}, {after: 60d, action: disable}]"),
			"config: sites.live.policy.inactivity[1].after must be longer than the step before it (90d)"},
		{"inactivity part day", site("inactivity: [{after: 36h, action: lock}]"),
			"config: sites.live.policy.inactivity[0].after must be a whole number of days, more than 0 (like 60d), not 36h"},
		{"inactivity action", site("inactivity: [{after: 60d, action: delete}]"),
			`config: sites.live.policy.inactivity[0].action must be one of lock, require_training, disable, not "delete"`},
		{"inactivity training unknown", site("inactivity: [{after: 90d, action: require_training, training: refresher}]"),
			`config: sites.live.policy.inactivity[0].training must be one of training.kinds, not "refresher"`},
		{"inactivity training missing", site("inactivity: [{after: 90d, action: require_training}]"),
			"config: sites.live.policy.inactivity[0].training must name the training to complete again"},
		{"inactivity training on lock", site("training: {kinds: {privacy_security: {valid: 365d}}}\n      inactivity: [{after: 60d, action: lock, training: privacy_security}]"),
			"config: sites.live.policy.inactivity[0].training is only for action require_training"},
		{"log_review_every", site("log_review_every: -24h"), "config: sites.live.policy.log_review_every must not be negative"},
		{"reminder_days", site("reminder_days: 400"), "config: sites.live.policy.reminder_days must be from 0 to 365"},
		{"reset link short", site("reset_link_ttl: 30s"), "config: sites.live.policy.reset_link_ttl must be from 1m to 24h"},
		{"reset link long", site("reset_link_ttl: 25h"), "config: sites.live.policy.reset_link_ttl must be from 1m to 24h"},
		{"reset per address", site("reset_limits: {per_address: 0}"), "config: sites.live.policy.reset_limits.per_address must be from 1 to 1000000"},
		{"reset per account", site("reset_limits: {per_account_per_hour: 101}"), "config: sites.live.policy.reset_limits.per_account_per_hour must be from 1 to 100"},
		{"reset window", site("reset_limits: {address_window: 30s}"), "config: sites.live.policy.reset_limits.address_window must be from 1m to 24h"},
		{"temporary short", site("temporary_password_ttl: 30m"), "config: sites.live.policy.temporary_password_ttl must be from 1h to 720h"},
		{"temporary long", site("temporary_password_ttl: 721h"), "config: sites.live.policy.temporary_password_ttl must be from 1h to 720h"},
		{"recovery question only", site("recovery: [security_question]"), "config: sites.live.policy.recovery must be [email] or [email, security_question], not [security_question]"},
		{"recovery empty", site("recovery: []"), "config: sites.live.policy.recovery must be [email] or [email, security_question]"},
		{"terms version", site("terms: {version: 0}"), "config: sites.live.policy.terms.version must be at least 1"},
		{"session idle", site("session: {idle: 0s}"), "config: sites.live.policy.session.idle must be more than 0s"},
		{"session absolute", site("session: {idle: 1h, absolute: 30m}"), "config: sites.live.policy.session.absolute must be at least session.idle (1h)"},
		{"session reauth", site("session: {reauth: 0s}"), "config: sites.live.policy.session.reauth must be more than 0s"},
		{"mfa required", site("mfa: {required: sometimes}"), `config: sites.live.policy.mfa.required must be one of none, admins, everyone, not "sometimes"`},
		{"remember days", site("mfa: {remember_device_days: 366}"), "config: sites.live.policy.mfa.remember_device_days must be from 0 to 365"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loadErr(t, tt.text)
			if !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
			if n := strings.Count(got, "\n") + 1; n != 1 {
				t.Errorf("%d errors, want only the one about the bad value:\n%s", n, got)
			}
		})
	}
}

func TestPossibleEdgeValuesAreAccepted(t *testing.T) {
	for _, text := range []string{
		"listen: ':0'\n",
		"public_url: https://hmis.example.org/auth/\n",
		"database: postgres://hmis:secret@db.example.org/hmis?sslmode=require\n",
		"database: postgresql://db/hmis\n",
		"mail: {transport: smtp, smtp: {host: mail.example.org, port: 465, tls: tls, username: u, password: p}}\n",
		"mail: {transport: file, dir: ./outbox}\n",
		"mail: {dkim: {domain: example.org, selector: s1, private_key_file: dkim.pem}}\n",
		"password_hash: {memory_kib: 8192, iterations: 20, parallelism: 16, concurrency: 0, queue: 0, queue_wait: 0}\n",
		"log: {level: debug, format: json}\n",
		site("password: {min_length: 15, max_length: 1024, require: [], history: 24, max_age_days: 0, warn_days: 30}"),
		site("recovery: [email, security_question]"),
		site("lockout: {threshold: 1, auto_unlock_after: 0}"),
		site("reset_link_ttl: 1m\n      temporary_password_ttl: 720h\n      inactive_lock_days: 0"),
		site("session: {idle: 15m, absolute: 15m, reauth: 1m, single: true}"),
		site("mfa: {required: everyone, remember_device_days: 0}"),
	} {
		if _, err := Load(writeConfig(t, text), "data", nil); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestDatabaseErrorsDoNotEchoPasswords(t *testing.T) {
	got := loadErr(t, "database: mysql://hmis:hunter2@db/hmis\n")
	if strings.Contains(got, "hunter2") {
		t.Errorf("error reveals the password: %q", got)
	}
}
