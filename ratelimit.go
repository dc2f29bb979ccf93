package hmisauth

import "time"

// AddressAttempt is one attempt from a client address that a rate limit counts before it is
// decided (Store.ReserveAddressAttempt), and gives back if it turns out not to count
// (Store.ReleaseAddressAttempt): a sign-in that succeeded, a reset link that works.
type AddressAttempt struct {
	// Key names what is counted: the kind of attempt, the site and the client address.
	Key string
	// Subject, when not empty, is counted among the window's distinct subjects: an opaque
	// string (auth passes a digest of the username tried, never the name itself).
	Subject string
	// Window is the length of the fixed windows counted in, aligned to multiples of it from
	// the Unix epoch, as Store.HitRateLimit's; At is when the attempt is made.
	Window time.Duration
	At     time.Time
	// MaxAttempts and MaxSubjects are the window's limits; 0 or less is no limit.
	MaxAttempts int
	MaxSubjects int
}

// AddressAttempts is what Store.ReserveAddressAttempt found in the attempt's window.
type AddressAttempts struct {
	// Allowed says the attempt was counted; false when a limit was already reached, and then
	// nothing was counted.
	Allowed bool
	// Attempts and Subjects are the window's counts, this attempt included when Allowed.
	Attempts int
	Subjects int
}

// WindowEnd is when the fixed window of length w (aligned to multiples of w from the Unix
// epoch, as the Store counts them) that holds t ends: when a limit reached in it lifts.
func WindowEnd(t time.Time, w time.Duration) time.Time {
	wu := w.Microseconds()
	if wu <= 0 {
		return t
	}
	at := t.UnixMicro()
	start := at - at%wu
	if at%wu < 0 {
		start -= wu // floor, for times before 1970
	}
	return time.UnixMicro(start + wu).In(t.Location())
}
