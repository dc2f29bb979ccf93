package hmisauth

import "time"

// SecondFactors is what a user has set up for 2-step verification.
type SecondFactors struct {
	// TOTP is the authenticator app: nil when the user never started setting one up.
	TOTP *TOTP
	// RecoveryCodesLeft counts the one-time recovery codes not yet used.
	RecoveryCodesLeft int
	Passkeys          []*Passkey // oldest first
}

// Enabled reports whether sign-in asks for a second step.
func (f *SecondFactors) Enabled() bool {
	return f.TOTP.Confirmed() || len(f.Passkeys) > 0
}

// TOTP is a user's authenticator app (RFC 6238). Its secret is stored sealed (encrypted with
// the server's key and bound to the user), never in the clear.
type TOTP struct {
	UserID int64
	// Secret is the sealed secret in use; nil until an enrolment is confirmed.
	Secret      []byte
	ConfirmedAt time.Time
	// LastStep is the newest 30-second time step whose code was accepted: a code is accepted
	// once, and no older one after it.
	LastStep int64
	// Pending is the sealed secret of an enrolment shown but not yet confirmed by a first code
	// (a new phone replaces the old one only once confirmed).
	Pending   []byte
	PendingAt time.Time
}

// Confirmed reports whether the authenticator app is in use (t may be nil).
func (t *TOTP) Confirmed() bool { return t != nil && len(t.Secret) > 0 }

// Passkey is a WebAuthn credential (a security key or the device's own authenticator) the user
// registered as a second factor.
type Passkey struct {
	ID           int64
	UserID       int64
	CredentialID []byte // as the authenticator gave it; unique on the server
	Name         string // the user's label for it
	// Credential is the library's record of the credential (public key, sign count, flags),
	// as JSON: the rules read and write it, the store only keeps it.
	Credential []byte
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// RememberedDevice is a browser the user asked not to be asked the second step on, for the
// site's remember_device_days. The cookie holds a random token; only its hash is stored, so a
// device is forgotten by deleting its row (password change, 2-step reset, disable).
type RememberedDevice struct {
	ID        int64
	UserID    int64
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	UserAgent string
}

// LoginChallenge is a sign-in whose password was right, waiting for its second step in the
// same browser. Its token (in a short-lived cookie) is stored only as a hash.
type LoginChallenge struct {
	ID         int64
	Site       string
	UserID     int64
	TokenHash  []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ClientAddr string
	UserAgent  string
	// WebAuthn is the library's session data of a passkey assertion begun for this sign-in.
	WebAuthn []byte
}

// Why a session ended before its time, so the browser that held it can be told.
const (
	EndedElsewhere       = "signed_in_elsewhere" // a newer sign-in on a single-session site
	EndedByUser          = "ended_by_user"       // the user ended it from another session
	EndedPasswordChanged = "password_changed"
	EndedByHelpdesk      = "ended_by_helpdesk" // signed out, disabled or 2-step reset by an administrator
	EndedLocked          = "locked"            // too many failed attempts
	EndedMFAChanged      = "mfa_changed"       // the user turned 2-step verification off or on
)

// SessionEndKept is how long the reason a session ended is kept for its browser to be told.
const SessionEndKept = 24 * time.Hour
