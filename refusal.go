package hmisauth

import "time"

// RefusalWindow is how long refused requests of one kind and key are counted together before
// the audit log gets their summary. A flood of refusals costs the log two events per window
// and key (the first refusal, then the summary), however many requests it holds.
const RefusalWindow = 5 * time.Minute

// RefusalValuesKept bounds the distinct values (addresses, usernames) a window remembers; a
// summary of more says "100 or more".
const RefusalValuesKept = 100

// Kinds of refusal counted in windows instead of logged one by one.
const (
	// RefusalLocked is a sign-in (or second step) refused because the username is locked:
	// answered without a hash, so a client can send hundreds a second. Key: the username key;
	// Value: the client address.
	RefusalLocked = "login_locked"
	// RefusalResetDropped is a "forgot password" request dropped because its address made too
	// many. Key: the client address; Value: the username typed.
	RefusalResetDropped = "reset_dropped"
	// RefusalSignInLimited and RefusalSprayLimited are sign-ins (or second steps) refused by
	// the rate limits on failed sign-ins, and on distinct usernames failing, from one address.
	// Key: the client address; Value: the username typed.
	RefusalSignInLimited = "login_rate_limited"
	RefusalSprayLimited  = "spray_rate_limited"
	// RefusalResetLimited is a reset link refused because its address opened too many that
	// do not work. Key: the client address; Value: "".
	RefusalResetLimited = "reset_rate_limited"
)

// Refusal is one refused request, for Store.NoteRefusal.
type Refusal struct {
	Site string
	Kind string // one of the Refusal… kinds above
	// Key is what refusals are counted for; Value is what varies among them and is counted
	// distinct (see the kinds).
	Key   string
	Value string
	// Subject is the username the window's summary is about ("" when it is about an address);
	// the first refusal's is kept.
	Subject string
	At      time.Time
}

// RefusalCount is one window of refusals after its first, which the audit log recorded on its
// own: what its summary event says.
type RefusalCount struct {
	ID      int64
	Site    string
	Kind    string
	Key     string
	Subject string
	// Start and End bound the window; it is closed once End has passed.
	Start, End time.Time
	// Count is how many refusals came after the first; FirstAt and LastAt when (zero when
	// Count is 0).
	Count           int
	FirstAt, LastAt time.Time
	// Values are the distinct values among them, in the order first seen, at most
	// RefusalValuesKept.
	Values []string
}
