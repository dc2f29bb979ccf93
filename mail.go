package hmisauth

import (
	"context"
	"time"
)

// Kinds of e-mail hmisauth sends.
const (
	MailReset            = "reset"             // the reset link
	MailResetLocked      = "reset_locked"      // a reset asked for a locked account: no link, call the helpdesk
	MailPasswordChanged  = "password_changed"  // notice after any password change or reset
	MailEmailChanged     = "email_changed"     // to the old address when the address changes
	MailPasswordExpiring = "password_expiring" // warn_days before the password expires
	MailMFAChanged       = "mfa_changed"       // notice after any change to 2-step verification (Letter.MFAChange)
)

// What changed in 2-step verification, for a MailMFAChanged letter (Letter.MFAChange).
const (
	MFAChangeAppOn          = "app_on"          // an authenticator app was turned on (a new one replaces the old)
	MFAChangeAppOff         = "app_off"         // the authenticator app was turned off
	MFAChangeRecoveryCodes  = "recovery_codes"  // new recovery codes were made
	MFAChangePasskeyAdded   = "passkey_added"   // a passkey was added (Letter.PasskeyName)
	MFAChangePasskeyRemoved = "passkey_removed" // a passkey was removed (Letter.PasskeyName)
	MFAChangeReset          = "reset"           // the helpdesk removed every second factor
)

// Message is one e-mail in the durable outbox. It is written in the same transaction as the
// change it reports, then delivered by the outbox worker with retries, so a mail server that is
// down loses nothing. Its body may hold a reset link: the outbox erases Text and HTML once the
// message is sent or abandoned (except for the development inbox, which shows them).
type Message struct {
	ID        int64
	Site      string
	Kind      string
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string // RFC 5322 Message-ID, fixed when queued so every retry is the same message
	CreatedAt time.Time
	// DiscardAfter is when the message stops being useful (its link expires); a message still
	// undelivered then is abandoned instead of retried. Zero: keep trying.
	DiscardAfter time.Time

	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	SentAt        time.Time
	AbandonedAt   time.Time
	// LeasedUntil is when the lease of the worker that claimed the message last ends (zero
	// when none holds it). ClaimMail sets it, and the worker names its lease with it when it
	// reports the outcome (Store.MailSent).
	LeasedUntil time.Time
}

// Letter is what an e-mail is about; Letters turns it into a Message in the site's words.
type Letter struct {
	Kind       string
	Site       *Site
	To         string
	User       *User
	Link       string        // the reset link, for MailReset
	ExpiresIn  time.Duration // how long the link works, for MailReset
	Unlocks    bool          // for MailReset: the account is locked, and the reset also unlocks it
	At         time.Time     // when it happened (the request, the change), shown in the site's timezone
	NewEmail   string        // for MailEmailChanged
	ExpiresOn  time.Time     // for MailPasswordExpiring
	ClientAddr string        // where the request came from, when known
	// MFAChange says what changed, for MailMFAChanged: one of the MFAChange* constants.
	MFAChange string
	// PasskeyName is the user's name for the passkey added or removed, for MailMFAChanged.
	PasskeyName string
	// Agency is the agency whose license expires, for MailLicenseExpiring (ExpiresOn is
	// then the license's last day).
	Agency *Agency
	// About, when set, is the user the letter is about when it goes to someone else: the
	// sysadmins' copy of a MailAgreementExpiring or MailTrainingExpiring (User is then the
	// recipient).
	About *User
	// TrainingKind is the training that lapses, for MailTrainingExpiring (ExpiresOn is then
	// the last day its completion counts).
	TrainingKind string
	// TrainingRequired says the site requires that training to sign in (MailTrainingExpiring).
	TrainingRequired bool
	// Step is the inactivity step a MailInactivityWarning warns of (ExpiresOn is then when
	// it applies).
	Step *InactivityStep
}

// Letters writes e-mails from templates. mail/ implements it.
type Letters interface {
	Compose(l Letter) (*Message, error)
}

// Mailer delivers one message; the outbox worker calls it and retries on error.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}
