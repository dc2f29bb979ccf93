package hmisauth

import (
	"strings"
	"time"
)

// ProductName is the name users know this server by; passwords may not contain it.
const ProductName = "hmisauth"

// Site is one set of completely separate accounts (the live site, the training site). A
// username, password or session on one site means nothing on another. Sites come from the
// configuration; Key is the path segment (/live/login).
type Site struct {
	Key      string   `yaml:"-"`
	Name     string   `yaml:"name"`
	Training bool     `yaml:"training"`
	Timezone string   `yaml:"timezone"`
	Helpdesk Helpdesk `yaml:"helpdesk"`
	// AppURL is the address of the HMIS application people use after signing in here; the
	// account page offers it as the way onward, with AppName ("HMIS" when empty) on the button.
	AppURL  string `yaml:"app_url"`
	AppName string `yaml:"app_name"`
	Policy  Policy `yaml:"policy"`
	// Clients are the applications the configuration file declares for the site, by client
	// ID; start-up makes the stored clients match (others are added on the command line or
	// console).
	Clients map[string]*ClientConfig `yaml:"clients"`

	// Location is Timezone loaded; set by the configuration loader.
	Location *time.Location `yaml:"-"`
}

// Helpdesk is whom users are told to contact when self-service cannot help.
type Helpdesk struct {
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
	Hours string `yaml:"hours"`
}

// Contact is the helpdesk contact as one phrase for messages: "helpdesk@example.org or 555-0100".
func (h Helpdesk) Contact() string {
	var parts []string
	if h.Email != "" {
		parts = append(parts, h.Email)
	}
	if h.Phone != "" {
		parts = append(parts, h.Phone)
	}
	if len(parts) == 0 {
		return "your HMIS helpdesk"
	}
	s := strings.Join(parts, " or ")
	if h.Hours != "" {
		s += " (" + h.Hours + ")"
	}
	return s
}

// Policy is a site's account-security policy. Every number is the site's choice; the defaults
// are PRODUCT.md's.
type Policy struct {
	Password         PasswordPolicy `yaml:"password"`
	Lockout          LockoutPolicy  `yaml:"lockout"`
	InactiveLockDays int            `yaml:"inactive_lock_days"`
	// ReminderDays is how many days before an agency's license or a user's agreement expires
	// the reminder e-mail goes out (0: none).
	ReminderDays         int           `yaml:"reminder_days"`
	ResetLinkTTL         time.Duration `yaml:"reset_link_ttl"`
	ResetLimits          ResetLimits   `yaml:"reset_limits"`
	RateLimits           RateLimits    `yaml:"rate_limits"`
	TemporaryPasswordTTL time.Duration `yaml:"temporary_password_ttl"`
	Recovery             []string      `yaml:"recovery"`
	Terms                Terms         `yaml:"terms"`
	Session              SessionPolicy `yaml:"session"`
	MFA                  MFAPolicy     `yaml:"mfa"`
	// Retention is how long rows that no longer matter are kept (see RetentionPolicy).
	Retention RetentionPolicy `yaml:"retention"`
	// Training is the site's kinds of training and which a user needs (compliance.go).
	Training TrainingPolicy `yaml:"training"`
	// Inactivity, when set, replaces InactiveLockDays with steps taken as an account stays
	// unused (compliance.go).
	Inactivity []InactivityStep `yaml:"inactivity"`
	// LogReviewEvery is how often someone must record a review of the access log; the console
	// reminds when the last review is older (0: never reminds).
	LogReviewEvery time.Duration `yaml:"log_review_every"`
}

// PasswordPolicy is what a new password must satisfy.
type PasswordPolicy struct {
	// Profile names a set of the values below that a site takes as a whole ("nist", see
	// password.Profile); keys the site writes itself still apply, within what the profile
	// allows. Empty: no profile, every value is the site's own.
	Profile    string   `yaml:"profile"`
	MinLength  int      `yaml:"min_length"`
	MaxLength  int      `yaml:"max_length"`
	Require    []string `yaml:"require"` // any of upper, lower, digit, symbol
	History    int      `yaml:"history"` // how many previous passwords may not be reused
	MaxAgeDays int      `yaml:"max_age_days"`
	WarnDays   int      `yaml:"warn_days"`
	Blocklist  bool     `yaml:"blocklist"`
	// ForbiddenWords are extra words (agency names, the state) a password may not contain.
	ForbiddenWords []string `yaml:"forbidden_words"`
}

// LockoutPolicy says when failed sign-ins lock an account.
type LockoutPolicy struct {
	Threshold int `yaml:"threshold"`
	// AutoUnlockAfter, when not zero, unlocks a locked account that long after it locked;
	// zero means only an administrator unlocks.
	AutoUnlockAfter time.Duration `yaml:"auto_unlock_after"`
	// ResetUnlocks lets a password reset through an e-mailed link also unlock the account, so
	// a locked user can help themselves instead of calling the helpdesk. Off by default, as
	// in the vendor systems: while locked, "Forgot password" sends no link.
	ResetUnlocks bool `yaml:"reset_unlocks"`
}

// ResetLimits keep "forgot password" from flooding inboxes or serving as a spam cannon.
type ResetLimits struct {
	// ResendAfter: a request within this time of the last link sends nothing new, and that
	// link keeps working (double clicks and impatience do not kill the link on its way).
	ResendAfter time.Duration `yaml:"resend_after"`
	// PerAccountPerHour caps the e-mails one account can be sent in an hour.
	PerAccountPerHour int `yaml:"per_account_per_hour"`
	// PerAddress caps the requests one client address may make in AddressWindow; beyond it
	// requests are refused (429) until the window ends. The answer is about the address
	// alone, so it tells nothing about any username.
	PerAddress    int           `yaml:"per_address"`
	AddressWindow time.Duration `yaml:"address_window"`
}

// RateLimits bound what one client address may try in each Window: sign-ins that fail (wrong
// password, unknown username, wrong 2-step code), distinct usernames among them (password
// spraying: one common password tried on many accounts), and reset links that do not work
// (guessing tokens). Beyond a limit the address is refused (429) until the window ends. An
// agency office shares one address among all its staff, so the defaults leave room for a
// whole office's typos in a bad quarter hour.
type RateLimits struct {
	Window           time.Duration `yaml:"window"`
	SignInPerAddress int           `yaml:"sign_in_per_address"`
	SprayUsernames   int           `yaml:"spraying_usernames"`
	ResetPerAddress  int           `yaml:"reset_per_address"`
}

// Terms is the site's Terms of Agreement. A user must accept the current Version.
type Terms struct {
	Version  int    `yaml:"version"`
	TextFile string `yaml:"text_file"`
	// Text is the terms read from TextFile (or the built-in text); set by the loader.
	Text string `yaml:"-"`
}

// SessionPolicy bounds sessions.
type SessionPolicy struct {
	Idle     time.Duration `yaml:"idle"`
	Absolute time.Duration `yaml:"absolute"`
	Reauth   time.Duration `yaml:"reauth"`
	Single   bool          `yaml:"single"`
}

// MFAPolicy says who must use 2-step verification.
type MFAPolicy struct {
	Required           string `yaml:"required"` // none, admins, everyone
	RememberDeviceDays int    `yaml:"remember_device_days"`
}

// DefaultPolicy returns PRODUCT.md's default policy.
func DefaultPolicy() Policy {
	return Policy{
		Password: PasswordPolicy{
			MinLength: 8, MaxLength: 50,
			Require: []string{"upper", "lower", "digit", "symbol"},
			History: 5, MaxAgeDays: 45, WarnDays: 7, Blocklist: true,
		},
		Lockout:              LockoutPolicy{Threshold: 3},
		InactiveLockDays:     90,
		ReminderDays:         30,
		ResetLinkTTL:         15 * time.Minute,
		ResetLimits:          ResetLimits{ResendAfter: 5 * time.Minute, PerAccountPerHour: 5, PerAddress: 20, AddressWindow: 15 * time.Minute},
		RateLimits:           RateLimits{Window: 15 * time.Minute, SignInPerAddress: 100, SprayUsernames: 40, ResetPerAddress: 30},
		TemporaryPasswordTTL: 72 * time.Hour,
		Recovery:             []string{"email"},
		Terms:                Terms{Version: 1},
		Session:              SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour, Reauth: 5 * time.Minute},
		MFA:                  MFAPolicy{Required: "none", RememberDeviceDays: 30},
		Retention:            DefaultRetention(),
	}
}

// Loc is the site's timezone: Location, or UTC when none was loaded.
func (s *Site) Loc() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// Today is the calendar date at t in the site's timezone, as a Date.
func (s *Site) Today(t time.Time) Date { return DateOf(t.In(s.Loc())) }

// StartOf is the first moment of calendar date d in the site's timezone; the zero time for an
// unset or malformed date.
func (s *Site) StartOf(d Date) time.Time {
	t, err := time.ParseInLocation(DateLayout, string(d), s.Loc())
	if err != nil {
		return time.Time{}
	}
	return t
}

// RequiresSecurityQuestion reports whether self-service recovery on this site needs a
// security question after the e-mailed link.
func (s *Site) RequiresSecurityQuestion() bool {
	for _, r := range s.Policy.Recovery {
		if r == "security_question" {
			return true
		}
	}
	return false
}

// ClientConfig is an application declared in the configuration file (sites.<site>.clients.<id>).
type ClientConfig struct {
	Name                   string   `yaml:"name"`
	HomeURL                string   `yaml:"home_url"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `yaml:"backchannel_logout_uri"`
	// SecretFile holds a confidential client's secret (at least 16 characters); Public
	// clients have none and must use PKCE.
	SecretFile    string            `yaml:"secret_file"`
	Public        bool              `yaml:"public"`
	Scopes        []string          `yaml:"scopes"`
	AccessToken   ClientTokenConfig `yaml:"access_token"`
	RefreshTokens bool              `yaml:"refresh_tokens"`
	// Secret is SecretFile's content, read by the loader.
	Secret string `yaml:"-"`
}

// ClientTokenConfig says what access tokens a declared client gets.
type ClientTokenConfig struct {
	Format   string        `yaml:"format"`   // opaque (default) or jwt
	Lifetime time.Duration `yaml:"lifetime"` // default 10m
}
