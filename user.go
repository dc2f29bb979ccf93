package hmisauth

import (
	"strings"
	"time"
)

// Role is what an account may administer.
type Role string

// The roles. A sysadmin administers the whole site, an agency admin their own agency's users,
// a user only themselves.
const (
	RoleUser        Role = "user"
	RoleAgencyAdmin Role = "agency_admin"
	RoleSysadmin    Role = "sysadmin"
)

// ParseRole checks a role name from outside input.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(s)); r {
	case "":
		return RoleUser, nil
	case RoleUser, RoleAgencyAdmin, RoleSysadmin:
		return r, nil
	}
	return "", FieldError("role", "Role must be one of user, agency_admin or sysadmin.")
}

// IsAdmin reports whether the role administers other accounts.
func (r Role) IsAdmin() bool { return r == RoleAgencyAdmin || r == RoleSysadmin }

// User is one account on one site. Zero times mean "never" / "not set".
type User struct {
	ID        int64
	Site      string
	Username  string // as created; compared case-insensitively through UsernameKey
	FirstName string
	LastName  string
	Email     string
	Phone     string
	AgencyID  int64 // 0: no agency
	Role      Role
	// SecurityOfficer marks an agency admin as their agency's security officer, who reads the
	// agency's audit events and signs off its access-log reviews. Only an agency admin may be
	// one; a change of role clears it.
	SecurityOfficer bool
	CreatedAt       time.Time
	// Subject is the account's OpenID Connect sub: random, stable, unique per site, never the
	// username (which an administrator may change). The store makes one when it is "".
	Subject string

	Disabled   bool
	DisabledAt time.Time

	PasswordHash      string // Argon2id PHC string
	PasswordChangedAt time.Time
	// PasswordTemporary is set for every password an administrator chose; the user must
	// replace it at first sign-in, and it works for one sign-in only.
	PasswordTemporary bool
	TemporaryUsedAt   time.Time
	// MustChangePassword is an administrator's "expire password now".
	MustChangePassword bool

	TermsVersion    int
	TermsAcceptedAt time.Time
	LastLoginAt     time.Time

	// The signed user agreement: user, supervisor and executive director sign; it runs until
	// AgreementExpiresOn. All zero: the site does not track one for this user.
	AgreementSignedOn           Date
	AgreementSupervisorSignedOn Date
	AgreementDirectorSignedOn   Date
	AgreementExpiresOn          Date

	RecoveryQuestion   string
	RecoveryAnswerHash string

	// MFAEnabled is true when the user has 2-step verification on: a confirmed authenticator
	// app or at least one passkey. Every lookup of a user fills it.
	MFAEnabled bool

	// Lockout state, kept per site and username key (see Store.ReserveLoginAttempt).
	FailedAttempts int
	LastFailedAt   time.Time
	LockedAt       time.Time
}

// Locked reports whether failed sign-ins have locked the account.
func (u *User) Locked() bool { return !u.LockedAt.IsZero() }

// FullName is "First Last".
func (u *User) FullName() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// UsernameKey is the form in which usernames are compared and stored unique per site:
// trimmed and lower-cased. Usernames are case-insensitive; passwords are not.
func UsernameKey(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

// Agency is an organisation whose users share a yearly license with a number of seats.
type Agency struct {
	ID             int64
	Site           string
	Name           string
	Seats          int // 0: unlimited
	LicenseStarts  Date
	LicenseExpires Date // zero: no expiry tracked
	CreatedAt      time.Time
}

// LicenseExpired reports whether the license has run out on the given day: it is valid
// through its expiry date.
func (a *Agency) LicenseExpired(today Date) bool {
	return !a.LicenseExpires.IsZero() && a.LicenseExpires.Before(today)
}

// Problem codes: every reason a user may be unable to sign in right now (the login doctor).
const (
	ProblemLocked                   = "locked"
	ProblemInactive                 = "inactive"
	ProblemDisabled                 = "disabled"
	ProblemPasswordExpired          = "password_expired"
	ProblemTemporaryPasswordExpired = "temporary_password_expired"
	ProblemTemporaryPasswordUsed    = "temporary_password_used"
	ProblemLicenseExpired           = "license_expired"
	ProblemAgreementExpired         = "agreement_expired"
	ProblemNoEmail                  = "no_email"
	ProblemNoRecoveryInfo           = "no_recovery_info"
	ProblemTermsNotAccepted         = "terms_not_accepted"
	// ProblemInactiveTraining: unused long enough that the site's inactivity policy asks for
	// a training again (a require_training step), and it has not been recorded since.
	ProblemInactiveTraining = "inactive_training"
)

// Problem is one reason a user cannot sign in (or recover) right now, with what fixes it.
type Problem struct {
	Code    string    `json:"code"`
	Since   time.Time `json:"since,omitzero"`
	Message string    `json:"message"`
	Fix     string    `json:"fix"`
	// Blocking is true when the problem alone stops sign-in (as opposed to a required action
	// the user completes themselves, or a recovery gap).
	Blocking bool `json:"blocking"`
}

// Required actions, done in this order; until they are done a session opens nothing else.
const (
	ActionAcceptTerms    = "accept_terms"
	ActionChangePassword = "change_password"
	ActionSetupRecovery  = "setup_recovery"
	ActionSetupMFA       = "setup_mfa" // the site's mfa.required applies and the user has no second factor
)

// Reasons for ActionChangePassword.
const (
	ReasonTemporary = "temporary"
	ReasonExpired   = "expired"
)

// RequiredAction is a step the user must complete before using their session.
type RequiredAction struct {
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

// UserQuery selects users; zero fields select everything on the site.
type UserQuery struct {
	Site     string
	Text     string // part of the username, first or last name, or e-mail (case-insensitive)
	AgencyID int64
	Locked   bool // only locked accounts
	Disabled bool // only disabled accounts
	NoEmail  bool // only accounts without an e-mail address
	// After pages forward: only usernames (keys) after this one.
	After string
	Limit int // 0: 100; at most 1000
}

// Attempt is the outcome of Store.ReserveLoginAttempt.
type Attempt struct {
	Allowed  bool
	Count    int       // failed attempts counted so far, including this one
	LockedAt time.Time // set when the key is locked (by this attempt or earlier)
}

// PasswordChange is one password replacement (see Store.SetPassword).
type PasswordChange struct {
	UserID        int64
	Hash          string
	Temporary     bool
	MustChange    bool
	At            time.Time
	History       int   // previous passwords to keep
	KeepSessionID int64 // the session that made the change stays; 0 ends all
	// Mail, when set, is queued in the same transaction (the "password changed" notice).
	Mail *Message
}
