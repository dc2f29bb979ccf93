package hmisauth

import "time"

// Kinds of reminder e-mail, sent once each by the daily job (auth.Service.SendReminders).
const (
	// MailLicenseExpiring goes to an agency's administrators (or, when it has none with an
	// e-mail address, the site's sysadmins) policy.reminder_days before its license expires.
	MailLicenseExpiring = "license_expiring"
	// MailAgreementExpiring goes to a user policy.reminder_days before their signed user
	// agreement expires; each sysadmin with an e-mail address gets a copy (Letter.About set).
	MailAgreementExpiring = "agreement_expiring"
	// MailInactivityWarning goes to a user before a step of the site's inactivity policy
	// applies to their unused account (Letter.Step is the step, ExpiresOn when it applies).
	MailInactivityWarning = "inactivity_warning"
)

// EventAccountInactive records, once per account and period of inactivity, that the daily job
// found the account unused for policy.inactive_lock_days (sign-in refuses it from then on), so
// the helpdesk sees when it happened.
const EventAccountInactive = "account_inactive"

// Reminder kinds as the store records them (Reminder.Kind).
const (
	ReminderLicense   = MailLicenseExpiring
	ReminderAgreement = MailAgreementExpiring
	ReminderInactive  = EventAccountInactive
	// ReminderInactivityWarning is one warning before one inactivity step; Due is when the
	// step applies (RFC 3339), so each step of each spell of inactivity is warned about once.
	ReminderInactivityWarning = MailInactivityWarning
)

// Reminder is one thing the daily jobs do at most once: remind about one agency's license
// expiring on one date, one user's agreement expiring on one date, or record one period of a
// user's inactivity. (Kind, TargetID, Due) identify it: a renewed license or agreement, or a
// user inactive again after signing in, has a new Due and is reminded anew.
type Reminder struct {
	Site     string
	Kind     string // one of the Reminder* kinds
	TargetID int64  // the agency (ReminderLicense) or user ID
	Due      string // the expiry Date, or when the inactivity began (RFC 3339)
	At       time.Time
}
