package hmisauth

import "time"

// RetentionPolicy is how long a site keeps rows that no longer matter before the daily
// retention job (auth.Service.RunRetention) deletes them: policy.retention. Each time counts
// from the moment its row stopped mattering, as each field says. The audit log is never
// deleted: it is the record of what happened, and rows here are only the working state.
type RetentionPolicy struct {
	// UnknownUsernames: the failed-attempt count (and lock) kept under a username that no
	// account of the site has, after its last wrong guess or lock. Until then the name stays
	// locked like a real account would, so lockouts do not tell which accounts exist.
	UnknownUsernames time.Duration `yaml:"unknown_usernames"`
	// SentMail: an outbox message after it was delivered (its body was erased then, except in
	// the development inbox). AbandonedMail: after it was given up on; its last error says why.
	SentMail      time.Duration `yaml:"sent_mail"`
	AbandonedMail time.Duration `yaml:"abandoned_mail"`
	// ResetTokens: a password-reset link's record after the link expired or was used.
	ResetTokens time.Duration `yaml:"reset_tokens"`
	// Reminders: the record of a reminder once it can no longer stop a second one: a license
	// or agreement reminder after its expiry date has passed, an inactivity record after the
	// user was active again (or is gone).
	Reminders time.Duration `yaml:"reminders"`
}

// DefaultRetention keeps a month of working state (abandoned mail, which someone may need to
// look into, three months) and a year of reminders: long enough to answer a helpdesk question
// about last week, short enough that the tables stay small.
func DefaultRetention() RetentionPolicy {
	const day = 24 * time.Hour
	return RetentionPolicy{UnknownUsernames: 30 * day, SentMail: 30 * day, AbandonedMail: 90 * day,
		ResetTokens: 7 * day, Reminders: 365 * day}
}

// The shortest retention times that break nothing; configuration refuses less, and
// auth.Service.RunRetention never keeps less whatever a Site built in code says.
const (
	// MinRetainUnknownUsernames keeps a username locked in an attack locked for a day at
	// least, like an account would be: forgotten sooner, a name that stays locked when the
	// attacker comes back would tell a real account from one that does not exist. The
	// site's lockout.auto_unlock_after, when longer, is the minimum instead.
	MinRetainUnknownUsernames = 24 * time.Hour
	// MinRetainMail keeps a sent or abandoned message an hour: a worker whose lease ran out
	// still finds the message it reports on (mail.Worker), and the development inbox shows
	// what was just sent.
	MinRetainMail = time.Hour
)

// Retention kinds: what Metrics.Deleted counts, and the policy.retention keys they follow.
// RetainedRateLimits has no key: a rate-limit window that has ended never counts again; nor
// has RetainedFormTokens: a form token that has expired is never used again.
const (
	RetainedUnknownUsernames = "unknown_usernames"
	RetainedSentMail         = "sent_mail"
	RetainedAbandonedMail    = "abandoned_mail"
	RetainedResetTokens      = "reset_tokens"
	RetainedReminders        = "reminders"
	RetainedRateLimits       = "rate_limit_windows"
	RetainedFormTokens       = "form_tokens"
)

// RetentionCutoffs is what one Store.DeleteRetained call removes of the rows of Site (""
// names the rows that belong to no site, such as a message queued without one): each kind
// whose time is before its cutoff. A zero cutoff removes nothing of its kind.
// auth.Service.RunRetention works the cutoffs out from the site's RetentionPolicy.
type RetentionCutoffs struct {
	Site string
	// UnknownUsernames: lockout rows of Site whose username key no account of Site has, whose
	// last failed attempt and lock (when locked) are both before it.
	UnknownUsernames time.Time
	// SentMail: Site's outbox messages sent before it; AbandonedMail: abandoned before it.
	// Messages neither sent nor abandoned are never removed.
	SentMail      time.Time
	AbandonedMail time.Time
	// ResetTokens: Site's reset tokens that expired, or were used, before it.
	ResetTokens time.Time
	// ReminderDates: Site's license, agreement and training reminders and inactivity warnings
	// whose Due date is before it. Each is only sent on or before its due date, so a past one
	// can never be due again.
	ReminderDates Date
	// Inactivity: Site's inactivity records made before it whose user has since signed in or
	// been given a new password (that spell of inactivity is over: a new one has a later Due),
	// or no longer exists. The record of a user still inactive stays, or the daily job would
	// record the same spell again.
	Inactivity time.Time
	// RateLimitWindows: rate-limit windows (Store.HitRateLimit's and the per-address
	// attempts of Store.ReserveAddressAttempt) that ended at or before it, of every site:
	// their keys name the site, and the tables have no site column.
	RateLimitWindows time.Time
	// FormTokens: form tokens (Store.IssueFormToken) of every site that expired at or before
	// it. Most go sooner, with their session.
	FormTokens time.Time
}

// RetentionCounts is how many rows one Store.DeleteRetained call (or a whole retention run)
// removed, by kind; Reminders counts reminder and inactivity records together.
type RetentionCounts struct {
	UnknownUsernames int
	SentMail         int
	AbandonedMail    int
	ResetTokens      int
	Reminders        int
	RateLimitWindows int
	FormTokens       int
}

// Add returns the sum of c and d, kind by kind.
func (c RetentionCounts) Add(d RetentionCounts) RetentionCounts {
	return RetentionCounts{
		UnknownUsernames: c.UnknownUsernames + d.UnknownUsernames,
		SentMail:         c.SentMail + d.SentMail,
		AbandonedMail:    c.AbandonedMail + d.AbandonedMail,
		ResetTokens:      c.ResetTokens + d.ResetTokens,
		Reminders:        c.Reminders + d.Reminders,
		RateLimitWindows: c.RateLimitWindows + d.RateLimitWindows,
		FormTokens:       c.FormTokens + d.FormTokens,
	}
}

// RetentionCount is one kind's count, by its Retained* name.
type RetentionCount struct {
	Kind string
	N    int
}

// Kinds lists the counts by kind name in a fixed order, for the metrics and the log.
func (c RetentionCounts) Kinds() []RetentionCount {
	return []RetentionCount{
		{RetainedUnknownUsernames, c.UnknownUsernames},
		{RetainedSentMail, c.SentMail},
		{RetainedAbandonedMail, c.AbandonedMail},
		{RetainedResetTokens, c.ResetTokens},
		{RetainedReminders, c.Reminders},
		{RetainedRateLimits, c.RateLimitWindows},
		{RetainedFormTokens, c.FormTokens},
	}
}
