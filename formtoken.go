package hmisauth

import "time"

// FormToken is the one-time token of a form that must not act twice: one that creates
// something (an account, an agency, an application) or shows a secret once (a temporary
// password, recovery codes). A reload or a double click sends the form again with the same
// token; the second sending finds the token used and shows what the first did instead of
// doing it again. Only the token's hash is kept.
//
// A token belongs to one signed-in session and one purpose (the form it was made for), and
// goes with its session: it expires when the session would at the latest, and is removed
// when the session ends.
type FormToken struct {
	ID        int64
	Hash      []byte
	SessionID int64
	// Purpose names the form, with what it acts on when that is in its address
	// ("temporary-password:jdoe"), so a token from one page does nothing on another.
	Purpose   string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the form was first sent with the token (zero: never, or the sending
	// changed nothing and gave the token back).
	UsedAt time.Time
	// Result is what that first sending did, as the web layer records it for a repeat to
	// show ("" until it is recorded). It never holds a secret.
	Result string
}
