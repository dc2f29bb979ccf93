package hmisauth

// Metrics counts what happens, for monitoring (package metrics exports it to Prometheus).
// Labels are site keys and the fixed words below, never usernames, addresses or anything a
// request chose. Implementations are safe for concurrent use; NoMetrics counts nothing.
type Metrics interface {
	// SignIn counts one sign-in attempt's outcome (Outcome* below) on a site.
	SignIn(site, outcome string)
	// Lockout counts an account (or a username's counter) locked by failed attempts.
	Lockout(site string)
	// ResetRequested counts a "forgot password" request accepted; ResetCompleted a password
	// set through a reset link.
	ResetRequested(site string)
	ResetCompleted(site string)
	// SessionStarted counts a new session; SessionEnded one ended, by reason (Ended* in
	// mfa.go, or "signed_out", "timed_out").
	SessionStarted(site string)
	SessionEnded(site, reason string, n int)
	// RateLimited counts a request refused by a rate limit (429), by limit (RateLimit*).
	RateLimited(site, limit string)
	// Mail counts an outbox delivery attempt's outcome: "sent", "retried" or "abandoned".
	Mail(outcome string)
	// Deleted counts rows the retention job removed, by kind.
	Deleted(kind string, n int)
}

// Sign-in outcomes, for Metrics.SignIn.
const (
	OutcomeSuccess      = "success"
	OutcomeFailed       = "failed"
	OutcomeLocked       = "locked"
	OutcomeTOTPRequired = "totp_required" // password right, a second step is asked for
	OutcomeBusy         = "busy"          // every password-hashing slot was taken
	OutcomeRateLimited  = "rate_limited"
)

// Rate limits, for Metrics.RateLimited (auth/ratelimit.go; the keys in docs/CONFIG.md).
const (
	RateLimitSignIn   = "sign_in"  // failed sign-ins from one address
	RateLimitSpraying = "spraying" // distinct usernames failing from one address
	RateLimitForgot   = "forgot"   // "forgot password" requests from one address
	RateLimitReset    = "reset"    // reset links that do not work, opened from one address
)

// Outbox delivery outcomes, for Metrics.Mail. (Not Mail* alone: those names are the kinds of
// e-mail, MailReset and the rest.)
const (
	MailOutcomeSent      = "sent"      // the mail server accepted the message
	MailOutcomeRetried   = "retried"   // the attempt failed; the message waits for its next try
	MailOutcomeAbandoned = "abandoned" // given up on: its link expired, or it cannot be delivered
)

// Session end reasons besides the Ended* constants, for Metrics.SessionEnded.
const (
	EndedSignedOut = "signed_out"
	EndedTimedOut  = "timed_out"
)

// NoMetrics is a Metrics that counts nothing (tests, and commands that serve nothing).
type NoMetrics struct{}

func (NoMetrics) SignIn(site, outcome string)             {}
func (NoMetrics) Lockout(site string)                     {}
func (NoMetrics) ResetRequested(site string)              {}
func (NoMetrics) ResetCompleted(site string)              {}
func (NoMetrics) SessionStarted(site string)              {}
func (NoMetrics) SessionEnded(site, reason string, n int) {}
func (NoMetrics) RateLimited(site, limit string)          {}
func (NoMetrics) Mail(outcome string)                     {}
func (NoMetrics) Deleted(kind string, n int)              {}
