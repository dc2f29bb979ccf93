package hmisauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// TrainingPolicy is a site's trainings (CONTRACT.md "Compliance"): the kinds it records and
// which of them a user must have completed — before the first sign-in, and kept current.
type TrainingPolicy struct {
	// Kinds are the trainings the site records, by key (new_user, privacy_security).
	Kinds map[string]TrainingKind `yaml:"kinds"`
	// Required are the kinds a user must have, current, to sign in.
	Required []string `yaml:"required"`
}

// TrainingKind is one kind of training.
type TrainingKind struct {
	// Valid is how long a completion counts (8760h: a year); 0 never lapses.
	Valid time.Duration `yaml:"valid"`
}

// InactivityStep is one step of a site's inactivity policy: once an account has not been used
// for After, Action applies.
type InactivityStep struct {
	After time.Duration `yaml:"after"`
	// Action is InactivityLock, InactivityRequireTraining or InactivityDisable.
	Action string `yaml:"action"`
	// Training is the kind that must be completed again, for InactivityRequireTraining.
	Training string `yaml:"training"`
}

// Inactivity actions.
const (
	InactivityLock            = "lock"
	InactivityRequireTraining = "require_training"
	InactivityDisable         = "disable"
)

// Departure is why and when an account was disabled, for the monitoring pack's timeliness:
// agencies must tell the helpdesk within a day when someone leaves, and a monitor compares
// the day they reported it with when the account was disabled.
type Departure struct {
	UserID   int64
	Username string
	AgencyID int64 // 0: no agency
	// Reason is one of the Departure* reasons; "" for an account disabled before reasons were
	// kept (or by a path that gives none).
	Reason string
	// ReportedOn is the day the agency reported the departure; zero when not known.
	ReportedOn Date
	DisabledAt time.Time
	// DisabledBy is the actor who disabled it: a username, "cli:…", or the daily job.
	DisabledBy string
}

// Departure reasons. DepartureInactive is set only by the daily job's inactivity step; a
// person chooses among DepartureReasons.
const (
	DepartureLeftAgency = "left_agency"
	DepartureViolation  = "violation"
	DepartureOther      = "other"
	DepartureInactive   = "inactive"
)

// DepartureReasons are the reasons an administrator may give, in the order a form offers them.
var DepartureReasons = []string{DepartureLeftAgency, DepartureViolation, DepartureOther}

// PolicySnapshot is p as canonical JSON, the form a site's policy is recorded in
// (Store.RecordPolicy) and compared by. Keys are the configuration file's (password.min_length)
// and durations are written as the file may write them ("15m0s"), so a monitor reads it as
// the configuration; encoding/json sorts map keys, so one policy always gives the same bytes.
// The terms' text, which the file only names, is its SHA-256 ("sha256:…"): a changed text is
// a changed policy, but pages of it do not belong in every audit event.
func PolicySnapshot(p Policy) string {
	v := snapshotValue(reflect.ValueOf(p))
	if terms, ok := v.(map[string]any)["terms"].(map[string]any); ok && p.Terms.Text != "" {
		sum := sha256.Sum256([]byte(p.Terms.Text))
		terms["text_sha256"] = hex.EncodeToString(sum[:])
	}
	b, err := json.Marshal(v)
	if err != nil {
		// snapshotValue makes only maps, slices, strings, numbers and bools.
		panic("hmisauth: policy snapshot: " + err.Error())
	}
	return string(b)
}

var durationType = reflect.TypeFor[time.Duration]()

// snapshotValue is v as PolicySnapshot writes it: structs as maps by YAML key (fields the
// file does not hold, yaml:"-", left out), durations as text.
func snapshotValue(v reflect.Value) any {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Struct:
		m := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "-" || !f.IsExported() {
				continue
			}
			if key == "" {
				key = strings.ToLower(f.Name)
			}
			m[key] = snapshotValue(v.Field(i))
		}
		return m
	case v.Kind() == reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = snapshotValue(v.MapIndex(k))
		}
		return m
	case v.Kind() == reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = snapshotValue(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// LogReview is a reviewer's sign-off that they checked the access log (HUD's user access log
// "checked routinely"): the period they reviewed, what they found and what follows. A site's
// own review (AgencyID 0) is a sysadmin's; an agency's is its security officer's.
type LogReview struct {
	ID       int64
	Site     string
	AgencyID int64  // 0: the whole site
	Reviewer string // the reviewer's username
	From, To Date   // the period reviewed, both days included
	Findings string
	FollowUp string
	At       time.Time // when it was recorded
}

// TrainingRecord is one completed training of a user, as recorded by the helpdesk, an agency
// administrator, the API, the command line or an import. Records are kept, never replaced: a
// yearly training has one per year, and the newest completion of a kind is what counts.
type TrainingRecord struct {
	ID          int64
	UserID      int64
	Kind        string // a key of the site's TrainingPolicy.Kinds
	CompletedOn Date
	// RecordedBy is the actor who recorded it (a username, "cli:…" or "import").
	RecordedBy string
	RecordedAt time.Time
}

// Problem codes of the training gate (the login doctor): a required training never recorded,
// or whose newest completion is no longer valid.
const (
	ProblemTrainingMissing = "training_missing"
	ProblemTrainingExpired = "training_expired"
)

// MailTrainingExpiring goes to a user policy.reminder_days before one of their trainings
// lapses (each sysadmin with an e-mail address gets a copy, Letter.About set), once per kind
// and lapse date: Reminder.Due is "YYYY-MM-DD kind", the last day the completion counts.
const (
	MailTrainingExpiring = "training_expiring"
	ReminderTraining     = MailTrainingExpiring
)

// TrainingValidDays is a kind's validity in whole days (0: never lapses). Completions are
// dates, so a validity is counted in days; config refuses one that is not whole days.
func TrainingValidDays(k TrainingKind) int { return int(k.Valid / (24 * time.Hour)) }

// TrainingCurrent says when the user last completed the kind (zero: never) and whether that
// completion still counts today: it does until the day its validity runs out (completed on D
// with a 365-day validity: through D+364). A kind the site does not define has no validity to
// run out, so only its presence counts. site may be nil (a kind that never lapses).
func TrainingCurrent(site *Site, records []*TrainingRecord, kind string, today Date) (last Date, current bool) {
	for _, r := range records {
		if r.Kind == kind && last.Before(r.CompletedOn) {
			last = r.CompletedOn
		}
	}
	if last.IsZero() {
		return last, false
	}
	lastDay := TrainingLastDay(site, kind, last)
	return last, lastDay.IsZero() || !lastDay.Before(today)
}

// TrainingLastDay is the last day a completion of kind on completed counts, zero when the
// kind never lapses.
func TrainingLastDay(site *Site, kind string, completed Date) Date {
	if site == nil {
		return ""
	}
	days := TrainingValidDays(site.Policy.Training.Kinds[kind])
	if days <= 0 {
		return ""
	}
	return completed.AddDays(days - 1)
}

// ComplianceStore is the part of Store that keeps what a monitoring visit asks about: the
// policy's history, trainings, departures, agency security officers and access-log reviews.
// The contract of Store (atomic steps, ctx's events appended in the same transaction) holds.
type ComplianceStore interface {
	// RecordPolicy records policy (PolicySnapshot's JSON) as the site's policy in force. When
	// it differs from the one recorded (or none is), it is stored and the events ctx carries
	// (its policy_changed event) appended in one transaction, and the answer is true; when it
	// is the same, nothing changes, no event is appended, and the answer is false. Of parallel
	// calls with one new policy (several servers starting at once) exactly one reports true.
	// The site must have been synced (SyncSite): an unknown site is ENOTFOUND.
	RecordPolicy(ctx context.Context, site, policy string) (bool, error)

	// SetSecurityOfficer marks the user their agency's security officer, or no longer, and
	// appends the events ctx carries, in one transaction. Only an agency admin with an agency
	// may be marked, decided in the same statement (a role changed meanwhile wins): anyone
	// else is EINVALID and nothing changes. UpdateUserProfile clears the mark when the role
	// it saves is not agency_admin or the agency changes.
	SetSecurityOfficer(ctx context.Context, userID int64, officer bool) error

	// RecordReview stores an access-log review, setting r.ID (and r.At to now when zero), and
	// appends the events ctx carries, in one transaction. An r.AgencyID must be an agency of
	// r.Site (ENOTFOUND otherwise).
	RecordReview(ctx context.Context, r *LogReview) error
	// LogReviews lists the reviews of a site's access log (agencyID 0) or of one of its
	// agencies', newest (by At, then ID) first.
	LogReviews(ctx context.Context, site string, agencyID int64) ([]*LogReview, error)
	// AllLogReviews lists every review of the site, its own and its agencies', newest first
	// (the monitoring pack).
	AllLogReviews(ctx context.Context, site string) ([]*LogReview, error)

	// Disable disables the account d.UserID as SetDisabled(…, true, d.DisabledAt) does and, in
	// the same transaction, records its departure (d.Reason, d.ReportedOn, d.DisabledBy), so a
	// disabled account never lacks the reason it was given. Disabling an account already
	// disabled keeps its first DisabledAt and its first departure. Enabling it (SetDisabled
	// false) forgets the departure. ENOTFOUND for no such user.
	Disable(ctx context.Context, d *Departure) error
	// UserDeparture is the departure of a disabled account; ENOTFOUND when the account is
	// enabled or was disabled without one (SetDisabled).
	UserDeparture(ctx context.Context, userID int64) (*Departure, error)
	// Departures lists every disabled account of the site with its departure, oldest disable
	// first (then by user ID); an account disabled without one has an empty Reason, a zero
	// ReportedOn and an empty DisabledBy. Username and AgencyID are the account's now.
	Departures(ctx context.Context, site string) ([]*Departure, error)

	// RecordTraining adds a completed training of user r.UserID (ENOTFOUND when there is no
	// such user), setting r.ID, with the events ctx carries, in one transaction. Earlier
	// completions are kept: the history is the record a monitor asks for.
	RecordTraining(ctx context.Context, r *TrainingRecord) error
	// Trainings lists the user's completed trainings, newest completion first (then newest
	// recorded first); empty when none.
	Trainings(ctx context.Context, userID int64) ([]*TrainingRecord, error)
	// SiteTrainings lists every completed training of the site's users, by user ID, each
	// user's newest completion first (reports, reminders and the monitoring pack).
	SiteTrainings(ctx context.Context, site string) ([]*TrainingRecord, error)
}
