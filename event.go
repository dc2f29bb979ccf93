package hmisauth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Audit actions: what an Event records.
const (
	EventLoginSucceeded       = "login_succeeded"
	EventLoginFailed          = "login_failed" // Detail says why (wrong_password, unknown_user, disabled, …)
	EventAccountLocked        = "account_locked"
	EventLogout               = "logout"
	EventTermsAccepted        = "terms_accepted"
	EventPasswordChanged      = "password_changed"
	EventResetRequested       = "reset_requested"
	EventResetCompleted       = "password_reset"
	EventSecurityAnswerWrong  = "security_answer_wrong"
	EventRecoveryChanged      = "recovery_changed"
	EventProfileChanged       = "profile_changed"
	EventUserCreated          = "user_created"
	EventUserUpdated          = "user_updated"
	EventTemporaryPasswordSet = "temporary_password_set"
	EventUserUnlocked         = "user_unlocked"
	EventPasswordExpiredByAdm = "password_expired_by_admin"
	EventUserDisabled         = "user_disabled"
	EventUserEnabled          = "user_enabled"
	EventAgreementRecorded    = "agreement_recorded"
	EventTrainingRecorded     = "training_recorded" // Detail names the kind and completion date
	EventAgencyCreated        = "agency_created"
	EventAgencyUpdated        = "agency_updated"
	EventMailAbandoned        = "mail_abandoned"
	EventSessionsEnded        = "sessions_ended"  // an administrator signed the user out everywhere
	EventReauthenticated      = "reauthenticated" // the password typed again to open security settings
	EventReauthFailed         = "reauth_failed"
	EventTOTPEnabled          = "totp_enabled"
	EventTOTPDisabled         = "totp_disabled"
	EventRecoveryCodesNew     = "recovery_codes_generated"
	EventRecoveryCodeUsed     = "recovery_code_used"
	EventPasskeyAdded         = "passkey_added"
	EventPasskeyRemoved       = "passkey_removed"
	EventMFAReset             = "mfa_reset" // the helpdesk removed every second factor
	EventDeviceRemembered     = "device_remembered"
	EventSessionEnded         = "session_ended" // the user ended one of their own sessions
	// EventLoginRefusals summarises the sign-ins refused on a locked username in one window
	// after the first, which has its own login_failed event (see RefusalWindow).
	EventLoginRefusals = "login_refusals"
	// EventResetDropped summarises the "forgot password" requests dropped from one address in
	// one window after the first, which has its own reset_requested event.
	EventResetDropped = "reset_requests_dropped"
	// EventRateLimited is a reset link refused by a rate limit on its client address, and the
	// summary of the sign-ins and reset links refused by one in one window after the first.
	EventRateLimited = "rate_limited"
	// EventPolicyChanged records, at start, a site's policy that differs from the one last
	// recorded (or the first one); Detail is the policy as PolicySnapshot writes it.
	EventPolicyChanged = "policy_changed"
	// EventSecurityOfficer records a sysadmin making an agency admin their agency's security
	// officer, or no longer (Detail says which).
	EventSecurityOfficer = "security_officer_changed"
	// EventAccessLogReviewed is a reviewer's sign-off on the access log (see LogReview).
	EventAccessLogReviewed = "access_log_reviewed"
)

// EventActions lists every audit action, in the order a filter offers them.
var EventActions = []string{
	EventLoginSucceeded, EventLoginFailed, EventAccountLocked, EventLogout, EventTermsAccepted,
	EventPasswordChanged, EventResetRequested, EventResetCompleted, EventSecurityAnswerWrong,
	EventRecoveryChanged, EventProfileChanged, EventUserCreated, EventUserUpdated,
	EventTemporaryPasswordSet, EventUserUnlocked, EventPasswordExpiredByAdm, EventUserDisabled,
	EventUserEnabled, EventAgreementRecorded, EventTrainingRecorded, EventAgencyCreated, EventAgencyUpdated,
	EventMailAbandoned, EventSessionsEnded, EventAccountInactive, EventReauthenticated,
	EventReauthFailed, EventTOTPEnabled, EventTOTPDisabled, EventRecoveryCodesNew,
	EventRecoveryCodeUsed, EventPasskeyAdded, EventPasskeyRemoved, EventMFAReset,
	EventDeviceRemembered, EventSessionEnded, EventLoginRefusals, EventResetDropped, EventRateLimited,
	EventAppSignIn, EventTokensIssued, EventTokensRefreshed, EventTokenRevoked, EventCodeReplayed,
	EventRefreshReused, EventBackchannelSent, EventBackchannelLost, EventClientCreated,
	EventClientUpdated, EventClientSecret, EventClientRemoved, EventSigningKeyRotate,
	EventPolicyChanged, EventSecurityOfficer, EventAccessLogReviewed,
}

// Event is one entry of the audit log: who did what to whom, when and from where. The log is
// append-only and hash-chained: each event's Hash covers its fields and the previous event's
// Hash, so editing, deleting or reordering a row breaks the chain (hmisauth audit verify).
// Nothing secret goes in: no password, answer, token or link.
type Event struct {
	ID         int64
	Site       string
	At         time.Time
	Actor      string // username of who acted; "" for a visitor not signed in; "cli:<name>" for the command line
	Subject    string // username acted on (as typed, for a failed sign-in), "" when none
	Action     string
	ClientAddr string
	Detail     string // a short human note, never a secret
	// AgencyID is the agency the event concerns, and ActorAgencyID the actor's (0: none). They
	// are not part of the Hash, so the chain of events logged before they existed still
	// verifies: the store fills them when it appends (from the accounts named by Subject and
	// Actor, unless the caller set AgencyID), and they only decide whose audit view shows the
	// event (an agency's security officer sees their agency's).
	AgencyID      int64
	ActorAgencyID int64
	PrevHash      []byte
	Hash          []byte
}

// EventHash is the chain rule: SHA-256 over the previous hash and every field of ev except ID
// and the hashes, each length-prefixed so no two different events hash alike. The time is
// taken to the microsecond, the precision both databases keep.
func EventHash(prev []byte, ev *Event) []byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var at [8]byte
	binary.BigEndian.PutUint64(at[:], uint64(ev.At.UnixMicro()))
	field(prev)
	field([]byte(ev.Site))
	field(at[:])
	for _, s := range []string{ev.Actor, ev.Subject, ev.Action, ev.ClientAddr, ev.Detail} {
		field([]byte(s))
	}
	return h.Sum(nil)
}

type eventsKey struct{}

// WithEvent returns a context that carries ev (after any events ctx carries already). A Store
// write method called with it appends the events to the audit log in the same transaction as
// its change, so the log never records a change that did not happen, nor misses one that did.
func WithEvent(ctx context.Context, ev *Event) context.Context {
	return WithEvents(ctx, ev)
}

// WithEvents is WithEvent for several events at once (a bulk import's).
func WithEvents(ctx context.Context, evs ...*Event) context.Context {
	have := EventsOf(ctx)
	return context.WithValue(ctx, eventsKey{}, append(have[:len(have):len(have)], evs...))
}

// EventsOf returns the events ctx carries for the next store write.
func EventsOf(ctx context.Context) []*Event {
	evs, _ := ctx.Value(eventsKey{}).([]*Event)
	return evs
}

// EventQuery selects audit events; zero fields select everything.
type EventQuery struct {
	Site    string
	Since   time.Time // at or after
	Until   time.Time // before
	Subject string    // username acted on (compared case-insensitively)
	Actor   string
	Action  string
	// AgencyID, when set, selects the events that concern the agency or whose actor is one of
	// its users (Event.AgencyID or Event.ActorAgencyID).
	AgencyID int64
	// BeforeID pages backwards: only events with a smaller ID (0: from the newest).
	BeforeID int64
	Limit    int // 0: 100
}
