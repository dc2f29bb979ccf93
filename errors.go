package hmisauth

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They are part of the outside contract (CONTRACT.md): scripts and the HMIS
// application match on them, so a code never changes meaning once published.
const (
	ECONFLICT  = "conflict"  // the thing exists already (a username, an agency name)
	EINTERNAL  = "internal"  // anything that is not an application error
	EINVALID   = "invalid"   // a field is missing or malformed
	ENOTFOUND  = "not_found" // no such user, agency, site or session
	EFORBIDDEN = "forbidden" // signed in, but not allowed

	ELoginFailed          = "login_failed"
	EAccountLocked        = "account_locked"
	ETOTPRequired         = "totp_required" // password right, 2-step verification code missing
	ETOTPWrong            = "totp_wrong"    // a wrong or reused code; counts as a failed attempt
	EPasskeyWrong         = "passkey_wrong" // a passkey answer that does not verify; counts as a failed attempt
	EReauthRequired       = "reauth_required"
	ESignedInElsewhere    = "signed_in_elsewhere" // single-session site: a newer sign-in ended this one
	EMFAUnavailable       = "mfa_unavailable"     // the authenticator secret does not open with the server key
	ERateLimited          = "rate_limited"
	EBusy                 = "busy"        // the password hashing queue is full: try again shortly
	EUnavailable          = "unavailable" // the database cannot be reached just now: try again shortly
	EUnauthorized         = "unauthorized"
	ESessionExpired       = "session_expired" // idle or absolute time-out: sign in again
	ETemporaryUsed        = "temporary_password_used"
	ETemporaryExpired     = "temporary_password_expired"
	EPasswordPolicy       = "password_policy"
	EPasswordMismatch     = "password_mismatch"
	EPasswordReused       = "password_reused"
	ECurrentPasswordWrong = "current_password_wrong"
	EActionRequired       = "action_required" // a required action must be done first
	ETermsVersion         = "terms_version"   // accepted a version that is not the current one
	ESeatsFull            = "seats_full"
	ETokenInvalid         = "token_invalid"         // a reset link that is unknown, used, expired or superseded
	ESecurityAnswerWrong  = "security_answer_wrong" // counts as a failed sign-in attempt
	ERecoveryUnavailable  = "recovery_unavailable"  // the site needs recovery information the user never set
	ECodeReplayed         = "code_replayed"         // an authorization code redeemed a second time
	ERefreshReused        = "refresh_reused"        // a rotated refresh token used again
)

// Error is an application error: a stable Code for programs and a Message written for the
// person who will read it (a case worker or a helpdesk agent). Anything that is not an *Error
// reaches users only as "Internal error." and is logged in full.
type Error struct {
	Code    string
	Message string
	// Violations lists each broken password rule when Code is EPasswordPolicy.
	Violations []Violation
	// Field names the form or API field the error is about, when there is one.
	Field string
	// RetryAfter, on ERateLimited, is how long until the limit lifts (the Retry-After header).
	RetryAfter time.Duration
	// AttemptsLeft, on ELoginFailed, is how many more failed sign-ins the username typed allows
	// before it locks (at least 1: the failure that reaches the threshold answers
	// EAccountLocked instead). It is read from the counter every username has, whether or not
	// an account has it, so it tells nobody which usernames exist.
	AttemptsLeft int
}

func (e *Error) Error() string {
	return fmt.Sprintf("hmisauth error: code=%s message=%s", e.Code, e.Message)
}

// Violation is one broken password rule.
type Violation struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one field.
func FieldError(field, message string) *Error {
	return &Error{Code: EINVALID, Message: message, Field: field}
}

// ErrorCode returns the code of the application error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the application error in err's chain, and
// "Internal error." for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// AsError returns the application error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrUnavailable is the error a Store returns (wrapping the cause, for the log) when its
// database cannot be reached: the request can be tried again once it is back.
func ErrUnavailable() *Error {
	return &Error{Code: EUnavailable, Message: "The sign-in service cannot reach its database just now. " +
		"Nothing was changed. Please try again in a minute; if this goes on, call the helpdesk."}
}
