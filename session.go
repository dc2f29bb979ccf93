package hmisauth

import "time"

// Session is one signed-in browser or API client. The token itself is never stored: only its
// SHA-256 hash, so a copy of the database cannot be used to sign in.
type Session struct {
	ID         int64
	Site       string
	UserID     int64
	TokenHash  []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute limit
	ReauthAt   time.Time // last re-entry of the password
	ClientAddr string
	UserAgent  string
	// SID is the session's public, random identifier: the sid claim of the ID tokens issued
	// from it, and of the back-channel logout tokens when it ends.
	SID string
	// AMR says how the user proved who they are at sign-in: "pwd", then "otp" (an
	// authenticator app or recovery code), "hwk" or "swk" (a passkey) and "mfa" when there
	// were two steps.
	AMR []string
}

// Clock tells the time. Every time rule takes it from a Clock so tests can move time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
