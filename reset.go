package hmisauth

import "time"

// ResetRequest is a "forgot password" request waiting to be handled.
type ResetRequest struct {
	ID         int64
	Site       string
	Username   string // as typed
	ClientAddr string
	At         time.Time
	// LeasedUntil is when the lease of the worker that claimed the request last ends (zero
	// when none holds it). ClaimResetRequests sets it, and the worker names its lease with it
	// when it ends the request (Store.EndResetRequest).
	LeasedUntil time.Time
}

// ResetToken is a password-reset link's secret, stored only as a hash.
type ResetToken struct {
	UserID    int64
	Site      string
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}
