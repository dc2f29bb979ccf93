package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// validate refuses every impossible value, naming its key. It checks everything rather than
// stopping at the first problem so that an operator fixes a file in one pass.
func (l *loader) validate(c *Config) {
	if c.MetricsListen != "" {
		mhost, mport, err := net.SplitHostPort(c.MetricsListen)
		switch {
		case err != nil || !validPort(mport, 0) || strings.ContainsAny(mhost, " /"):
			l.bad("metrics_listen", "must be HOST:PORT like 127.0.0.1:9090, not %q", c.MetricsListen)
		case c.MetricsListen == c.Listen:
			l.bad("metrics_listen", "must differ from listen (%s): to serve /metrics on the main address set metrics_token instead", c.Listen)
		}
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 20 || strings.ContainsAny(c.MetricsToken, " \t\r\n")) {
		l.bad("metrics_token", "must be at least 20 characters without spaces (for example the output of: openssl rand -hex 24)")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	listenOK := err == nil && validPort(port, 0) && !strings.ContainsAny(host, " /")
	if !listenOK {
		l.bad("listen", "must be HOST:PORT like 127.0.0.1:8080 or :8080, not %q", c.Listen)
	}
	// An empty public_url after a bad listen is the default that could not be derived from
	// it; the listen error already says what to fix.
	if listenOK || c.PublicURL != "" {
		l.checkPublicURL(c.PublicURL)
	}
	switch {
	case strings.HasPrefix(c.Database, "sqlite:"):
		if strings.TrimPrefix(c.Database, "sqlite:") == "" {
			l.bad("database", "must name a file after sqlite:, like sqlite:./hmisauth-data/hmisauth.db")
		}
	case strings.HasPrefix(c.Database, "postgres://"), strings.HasPrefix(c.Database, "postgresql://"):
		// The value is not echoed: a PostgreSQL URL usually carries a password.
		if _, err := url.Parse(c.Database); err != nil {
			l.bad("database", "is not a valid postgres:// URL")
		}
	default:
		l.bad("database", "must start with sqlite: or postgres:// (or postgresql://)")
	}
	for _, p := range c.TrustedProxies {
		if _, err := parseTrustedProxy(p); err != nil {
			l.bad("trusted_proxies", "%v", err)
		}
	}
	l.checkMail(c.Mail)
	l.checkHash(c.PasswordHash)
	if c.SecretKey != "" {
		// The value is never echoed: it is the key.
		if c.SecretKeyFile != "" {
			l.bad("secret_key", "and secret_key_file are both set; set one")
		} else if _, err := DecodeSecretKey(c.SecretKey); err != nil {
			l.bad("secret_key", "%v", err)
		}
	}
	l.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	l.oneOf("log.format", c.Log.Format, "text", "json")
	if len(c.Sites) == 0 {
		l.bad("sites", "must define at least one site")
	}
	for _, key := range c.SiteKeys {
		l.checkSite("sites."+key+".", c.Sites[key])
	}
	if c.OIDC.KeyRotation < 24*time.Hour {
		l.bad("oidc.key_rotation", "must be at least 1d (90d is usual)")
	}
}

func validPort(port string, min int) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= min && n <= 65535
}

// checkPublicURL insists on an absolute http(s) URL because every link in every e-mail is
// built from it; a query or fragment would break the paths appended to it.
func (l *loader) checkPublicURL(s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		l.bad("public_url", "must be an absolute http:// or https:// URL like https://hmis.example.org, not %q", s)
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#"):
		l.bad("public_url", "must not have a query (?…) or fragment (#…)")
	case u.User != nil:
		l.bad("public_url", "must not contain a user name or password")
	}
}

// checkAppURL insists on an address a case worker's browser can open from the account page:
// absolute, https, and http only on this machine (a demo), never javascript: or a bare path.
func (l *loader) checkAppURL(key, s string) {
	u, err := url.Parse(s)
	local := err == nil && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1")
	switch {
	case err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && local):
		l.bad(key, "must be an absolute https:// address like https://hmis.example.org/ (http:// only for localhost), not %q", s)
	case u.User != nil:
		l.bad(key, "must not contain a user name or password")
	}
}

func (l *loader) checkMail(m Mail) {
	l.oneOf("mail.transport", m.Transport, "dev", "file", "smtp")
	if m.Transport == "file" && m.Dir == "" {
		l.bad("mail.dir", "must be set when mail.transport is file")
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		l.bad("mail.from", "must be an address like \"HMIS Helpdesk <donotreply@example.org>\", not %q", m.From)
	}
	if m.Transport == "smtp" && m.SMTP.Host == "" {
		l.bad("mail.smtp.host", "must be set when mail.transport is smtp")
	}
	if m.SMTP.Port < 1 || m.SMTP.Port > 65535 {
		l.bad("mail.smtp.port", "must be from 1 to 65535")
	}
	l.oneOf("mail.smtp.tls", m.SMTP.TLS, "starttls", "tls", "none")
	if m.SMTP.Password != "" && m.SMTP.Username == "" {
		l.bad("mail.smtp.username", "must be set when mail.smtp.password is")
	}
	d := m.DKIM
	if d != (DKIM{}) {
		for _, f := range []struct{ key, value string }{
			{"domain", d.Domain}, {"selector", d.Selector}, {"private_key_file", d.PrivateKeyFile},
		} {
			if f.value == "" {
				l.bad("mail.dkim."+f.key, "must be set too: DKIM needs domain, selector and private_key_file")
			}
		}
	}
}

// checkHash defers to the password package, which owns the Argon2id bounds.
func (l *loader) checkHash(h password.Options) {
	if err := h.Validate(); err != nil {
		key, msg, _ := strings.Cut(err.Error(), " ")
		l.bad("password_hash."+key, "%s", msg)
	}
}

func (l *loader) checkSite(p string, s *hmisauth.Site) {
	if strings.TrimSpace(s.Name) == "" {
		l.bad(p+"name", "must not be empty: users see it on every page and e-mail")
	}
	if e := s.Helpdesk.Email; e != "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Name != "" {
			l.bad(p+"helpdesk.email", "must be a plain address like helpdesk@example.org, not %q", e)
		}
	}
	if s.AppURL != "" {
		l.checkAppURL(p+"app_url", s.AppURL)
	}
	if len(s.AppName) > 100 {
		l.bad(p+"app_name", "must be at most 100 characters: it is the name on a button")
	}
	pol := s.Policy
	pw := pol.Password
	p += "policy."
	l.checkPasswordProfile(p+"password.", pw)
	l.atLeast(p+"password.min_length", pw.MinLength, 1)
	if pw.MaxLength < pw.MinLength {
		l.bad(p+"password.max_length", "must be at least password.min_length (%d)", pw.MinLength)
	} else {
		l.between(p+"password.max_length", int64(pw.MaxLength), 1, 1024)
	}
	for _, r := range pw.Require {
		if !slices.Contains([]string{"upper", "lower", "digit", "symbol"}, r) {
			l.bad(p+"password.require", "may list only upper, lower, digit and symbol, not %q", r)
		}
	}
	l.between(p+"password.history", int64(pw.History), 0, 24)
	l.atLeast(p+"password.max_age_days", pw.MaxAgeDays, 0)
	if l.atLeast(p+"password.warn_days", pw.WarnDays, 0) && pw.MaxAgeDays > 0 && pw.WarnDays >= pw.MaxAgeDays {
		l.bad(p+"password.warn_days", "must be less than password.max_age_days (%d)", pw.MaxAgeDays)
	}
	for _, w := range pw.ForbiddenWords {
		if strings.TrimSpace(w) == "" {
			l.bad(p+"password.forbidden_words", "must not contain an empty word")
		}
	}
	l.atLeast(p+"lockout.threshold", pol.Lockout.Threshold, 1)
	if pol.Lockout.AutoUnlockAfter < 0 {
		l.bad(p+"lockout.auto_unlock_after", "must not be negative (0s means only an administrator unlocks)")
	}
	l.atLeast(p+"inactive_lock_days", pol.InactiveLockDays, 0)
	l.between(p+"reminder_days", int64(pol.ReminderDays), 0, 365)
	l.within(p+"reset_link_ttl", pol.ResetLinkTTL, time.Minute, 24*time.Hour)
	l.within(p+"reset_limits.resend_after", pol.ResetLimits.ResendAfter, 0, time.Hour)
	l.between(p+"reset_limits.per_account_per_hour", int64(pol.ResetLimits.PerAccountPerHour), 1, 100)
	l.between(p+"reset_limits.per_address", int64(pol.ResetLimits.PerAddress), 1, 1000000)
	l.within(p+"reset_limits.address_window", pol.ResetLimits.AddressWindow, time.Minute, 24*time.Hour)
	l.within(p+"rate_limits.window", pol.RateLimits.Window, time.Minute, 24*time.Hour)
	l.between(p+"rate_limits.sign_in_per_address", int64(pol.RateLimits.SignInPerAddress), 1, 1000000)
	l.between(p+"rate_limits.spraying_usernames", int64(pol.RateLimits.SprayUsernames), 1, 1000000)
	l.between(p+"rate_limits.reset_per_address", int64(pol.RateLimits.ResetPerAddress), 1, 1000000)
	l.within(p+"temporary_password_ttl", pol.TemporaryPasswordTTL, time.Hour, 720*time.Hour)
	if !slices.Equal(pol.Recovery, []string{"email"}) && !slices.Equal(pol.Recovery, []string{"email", "security_question"}) {
		// A security question alone is never enough proof (NIST SP 800-63B): it only ever
		// follows the e-mailed link.
		l.bad(p+"recovery", "must be [email] or [email, security_question], not [%s]", strings.Join(pol.Recovery, ", "))
	}
	l.atLeast(p+"terms.version", pol.Terms.Version, 1)
	ses := pol.Session
	if ses.Idle <= 0 {
		l.bad(p+"session.idle", "must be more than 0s")
	} else if ses.Absolute < ses.Idle {
		l.bad(p+"session.absolute", "must be at least session.idle (%s)", shortDuration(ses.Idle))
	}
	if ses.Reauth <= 0 {
		l.bad(p+"session.reauth", "must be more than 0s")
	}
	l.oneOf(p+"mfa.required", pol.MFA.Required, "none", "admins", "everyone")
	l.between(p+"mfa.remember_device_days", int64(pol.MFA.RememberDeviceDays), 0, 365)
	l.checkRetention(p+"retention.", pol)
	l.checkTraining(p+"training.", pol.Training)
	l.checkInactivity(p+"inactivity", pol)
	if pol.LogReviewEvery < 0 {
		l.bad(p+"log_review_every", "must not be negative (0s means no reminder)")
	}
}

// checkInactivity checks policy.inactivity: steps in ascending After, each a whole number of
// days (inactivity is counted in days, like inactive_lock_days), a known action, and a
// require_training step naming a kind of policy.training.kinds.
func (l *loader) checkInactivity(key string, pol hmisauth.Policy) {
	var prev time.Duration
	for i, st := range pol.Inactivity {
		k := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case st.After <= 0 || st.After%(24*time.Hour) != 0:
			l.bad(k+".after", "must be a whole number of days, more than 0 (like 60d), not %s", shortDuration(st.After))
		case st.After <= prev:
			l.bad(k+".after", "must be longer than the step before it (%dd): list the steps in ascending order", prev/(24*time.Hour))
		}
		prev = max(prev, st.After)
		l.oneOf(k+".action", st.Action, hmisauth.InactivityLock, hmisauth.InactivityRequireTraining, hmisauth.InactivityDisable)
		switch {
		case st.Action == hmisauth.InactivityRequireTraining && st.Training == "":
			l.bad(k+".training", "must name the training to complete again (a key of training.kinds)")
		case st.Action == hmisauth.InactivityRequireTraining:
			if _, ok := pol.Training.Kinds[st.Training]; !ok {
				l.bad(k+".training", "must be one of training.kinds, not %q", st.Training)
			}
		case st.Training != "":
			l.bad(k+".training", "is only for action require_training")
		}
	}
}

func (l *loader) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		l.bad(key, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
	}
}

// atLeast reports whether v >= min, recording the problem if not.
func (l *loader) atLeast(key string, v, min int) bool {
	if v < min {
		l.bad(key, "must be at least %d", min)
		return false
	}
	return true
}

func (l *loader) between(key string, v, min, max int64) {
	if v < min || v > max {
		l.bad(key, "must be from %d to %d", min, max)
	}
}

func (l *loader) within(key string, d, min, max time.Duration) {
	if d < min || d > max {
		l.bad(key, "must be from %s to %s", shortDuration(min), shortDuration(max))
	}
}

// shortDuration writes 24h rather than Go's 24h0m0s, as an operator would.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// DecodeSecretKey reads a server key written as base64 (standard or URL alphabet, padded or
// not), as in secret_key and the key file.
func DecodeSecretKey(text string) ([]byte, error) {
	text = strings.TrimRight(strings.TrimSpace(text), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("must be 32 bytes written in base64 (44 characters), not %d bytes", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes written in base64, like the output of: openssl rand -base64 32")
}
