package auth_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

const aDay = 24 * time.Hour

// dallas is the tiered policy of CONTRACT.md: locked at 60 days, refresher training at 90,
// disabled at 180.
func dallas(s *hmisauth.Site) {
	s.Policy.Training.Kinds = map[string]hmisauth.TrainingKind{"privacy_security": {Valid: 365 * aDay}}
	s.Policy.Inactivity = []hmisauth.InactivityStep{
		{After: 60 * aDay, Action: hmisauth.InactivityLock},
		{After: 90 * aDay, Action: hmisauth.InactivityRequireTraining, Training: "privacy_security"},
		{After: 180 * aDay, Action: hmisauth.InactivityDisable},
	}
}

func (f *fixture) problemCodes(username string) []string {
	f.t.Helper()
	d, err := f.svc.Diagnose(f.ctx, "live", username)
	if err != nil {
		f.t.Fatal(err)
	}
	var codes []string
	for _, p := range d.Problems {
		codes = append(codes, p.Code)
	}
	return codes
}

func (f *fixture) blocked(username string) string {
	f.t.Helper()
	reason, err := f.svc.Blocked(f.ctx, f.live, f.reload(username))
	if err != nil {
		f.t.Fatal(err)
	}
	return reason
}

// TestEachInactivityStepAppliesOnItsDayAfterItsWarning runs the daily job once a day for 181
// days after Jane's last sign-in and checks what happened on which day: each step's warning
// once, a week before it; each step on its day and not the day before.
func TestEachInactivityStepAppliesOnItsDayAfterItsWarning(t *testing.T) {
	f := newFixture(t, dallas)
	jane := f.user("Jane", "Doe")
	f.clock.Add(time.Hour) // the job runs an hour later in the day than Jane signed in
	var got []string
	mails, events := len(f.outbox()), len(f.events())
	for d := 1; d <= 181; d++ {
		f.clock.Add(aDay)
		before := f.blocked(jane.Username)
		if _, err := f.svc.RecordInactiveAccounts(f.ctx); err != nil {
			t.Fatal(err)
		}
		out := f.outbox() // newest first
		for _, m := range out[:len(out)-mails] {
			if m.Kind != hmisauth.MailInactivityWarning || m.To != jane.Email {
				t.Fatalf("day %d: unexpected mail %s to %s", d, m.Kind, m.To)
			}
			got = append(got, fmt.Sprintf("day %d: mail %q", d, m.Subject))
		}
		for _, e := range f.events()[events:] {
			got = append(got, fmt.Sprintf("day %d: %s by %s: %s", d, e.Action, e.Actor, e.Detail))
		}
		mails, events = len(f.outbox()), len(f.events())
		if want, ok := map[int]string{59: "", 60: hmisauth.ProblemInactive, 89: hmisauth.ProblemInactive}[d]; ok && before != want {
			t.Errorf("day %d: sign-in refused as %q, want %q", d, before, want)
		}
		if codes := f.problemCodes(jane.Username); d == 89 && slices.Contains(codes, hmisauth.ProblemInactiveTraining) ||
			d == 90 && !slices.Contains(codes, hmisauth.ProblemInactiveTraining) {
			t.Errorf("day %d: problems %v", d, codes)
		}
	}
	want := []string{
		`day 53: mail "HMIS Live: your account will be locked on Fri May 1, 2026"`,
		"day 60: account_inactive by job:daily: inactive since 2026-05-01 10:00 CDT (not used for 60 days)",
		`day 83: mail "HMIS Live: sign in by Sun May 31, 2026 to avoid repeating training"`,
		"day 90: account_inactive by job:daily: inactive since 2026-05-31 10:00 CDT (not used for 90 days): must complete privacy_security training again",
		`day 173: mail "HMIS Live: your account will be disabled on Sat Aug 29, 2026"`,
		"day 180: user_disabled by job:daily: reason: inactive (not used for 180 days)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("what happened:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	u := f.reload(jane.Username)
	if !u.Disabled {
		t.Fatal("Jane is not disabled after 180 days")
	}
	deps, err := f.svc.Departures(f.ctx, "live")
	if err != nil || len(deps) != 1 || deps[0].Reason != hmisauth.DepartureInactive || deps[0].DisabledBy != auth.JobActor ||
		deps[0].ReportedOn != f.live.Today(f.clock.Now().Add(-aDay)) { // disabled on day 180
		t.Fatalf("departures %+v, %v", deps[0], err)
	}
	// Disabled first; what enabling would leave is listed after it.
	if codes := f.problemCodes(jane.Username); len(codes) < 3 || codes[0] != hmisauth.ProblemDisabled ||
		!slices.Contains(codes, hmisauth.ProblemInactive) || !slices.Contains(codes, hmisauth.ProblemInactiveTraining) {
		t.Errorf("a disabled account's problems are %v, want disabled, then inactive and inactive_training", codes)
	}
}

// TestInactivityWarningsGoOnceAndOnlyToEnabledUsersWithAnAddress runs the job twice on the
// day of a warning.
func TestInactivityWarningsGoOnceAndOnlyToEnabledUsersWithAnAddress(t *testing.T) {
	f := newFixture(t, dallas)
	f.user("Jane", "Doe")
	f.create(auth.NewUser{Site: "live", FirstName: "No", LastName: "Mail"})
	gone := f.create(auth.NewUser{Site: "live", FirstName: "Gus", LastName: "Gone", Email: "gus@example.org"}).User
	if _, err := f.svc.SetDisabled(f.ctx, "live", gone.Username, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(55 * aDay)
	start := len(f.outbox())
	for range 2 {
		if _, err := f.svc.RecordInactiveAccounts(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	var to []string
	for _, m := range f.outbox()[start:] {
		to = append(to, m.Kind+" "+m.To)
	}
	if want := []string{"inactivity_warning x@example.org"}; !slices.Equal(to, want) {
		t.Fatalf("queued %v, want %v", to, want)
	}
}

// TestRequireTrainingStepNeedsACompletionAfterIt: the 90-aDay step asks for a training dated
// on or after the day it applied; one from before does not do, a temporary password does not
// lift it, and a new completion does.
func TestRequireTrainingStepNeedsACompletionAfterIt(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) {
		dallas(s)
		s.Policy.Inactivity = s.Policy.Inactivity[1:2] // the training step alone
	})
	jane := f.user("Jane", "Doe")
	if _, err := f.svc.RecordTraining(f.ctx, "live", jane.Username, "privacy_security", f.live.Today(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(89 * aDay)
	if got := f.blocked(jane.Username); got != "" {
		t.Fatalf("day 89: blocked as %q", got)
	}
	f.clock.Add(aDay + time.Minute)
	if got := f.attempt(jane.Username, goodPassword); got != hmisauth.ELoginFailed {
		t.Fatalf("day 90 sign-in: %q, want login_failed", got)
	}
	d, err := f.svc.Diagnose(f.ctx, "live", jane.Username)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) == 0 || d.Problems[0].Code != hmisauth.ProblemInactiveTraining ||
		d.Problems[0].Message != "Inactive 90 days: must complete privacy_security training again (completed on or after 2026-05-31)." ||
		!strings.Contains(d.Problems[0].Fix, "record it on the user's page") {
		t.Fatalf("doctor: %+v", d.Problems)
	}
	// A temporary password is not the training.
	temp, err := f.svc.SetTemporaryPassword(f.ctx, "live", jane.Username)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.attempt(jane.Username, temp.TemporaryPassword); got != hmisauth.ELoginFailed {
		t.Fatalf("with a temporary password: %q, want login_failed", got)
	}
	if _, err := f.svc.RecordTraining(f.ctx, "live", jane.Username, "privacy_security", f.live.Today(f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if got := f.blocked(jane.Username); got != "" {
		t.Fatalf("after the training: blocked as %q", got)
	}
	f.login(jane.Username, temp.TemporaryPassword)
}

// TestInactiveLockDaysIsALockStep: a site without policy.inactivity keeps its one step.
func TestInactiveLockDaysIsALockStep(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.InactiveLockDays = 30 })
	jane := f.user("Jane", "Doe")
	f.clock.Add(29 * aDay)
	if got := f.blocked(jane.Username); got != "" {
		t.Fatalf("day 29: %q", got)
	}
	f.clock.Add(aDay + time.Minute)
	if got := f.attempt(jane.Username, goodPassword); got != hmisauth.ELoginFailed {
		t.Fatalf("day 30: %q", got)
	}
	if codes := f.problemCodes(jane.Username); !slices.Contains(codes, hmisauth.ProblemInactive) {
		t.Fatalf("problems %v", codes)
	}
}

// TestDisableKeepsTheDepartureReasonAndDate checks the reason and the reported day are
// required and sane, and kept and audited with the disable.
func TestDisableKeepsTheDepartureReasonAndDate(t *testing.T) {
	f := newFixture(t)
	jane := f.user("Jane", "Doe")
	bob := f.user("Bob", "Roe")
	for _, c := range []struct {
		d     auth.Departure
		field string
	}{
		{auth.Departure{}, "reason"},
		{auth.Departure{Reason: hmisauth.DepartureInactive}, "reason"}, // only the job gives it
		{auth.Departure{Reason: hmisauth.DepartureLeftAgency, ReportedOn: "2026-03-03"}, "reported_on"},
	} {
		_, err := f.svc.Disable(f.ctx, "live", jane.Username, c.d)
		if e := hmisauth.AsError(err); e == nil || e.Field != c.field {
			t.Errorf("Disable(%+v) = %v, want an error on %s", c.d, err, c.field)
		}
	}
	if f.reload(jane.Username).Disabled {
		t.Fatal("a refused disable disabled the account")
	}
	ctx := auth.WithActor(f.ctx, auth.Actor{Username: "ssysop"})
	if _, err := f.svc.Disable(ctx, "live", jane.Username, auth.Departure{Reason: hmisauth.DepartureLeftAgency, ReportedOn: "2026-03-01"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Hour)
	if _, err := f.svc.SetDisabled(f.ctx, "live", bob.Username, true); err != nil { // no reason given: other, today
		t.Fatal(err)
	}
	deps, err := f.svc.Departures(f.ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, fmt.Sprintf("%s %s reported %s disabled %s by %q", d.Username, d.Reason, d.ReportedOn,
			d.DisabledAt.UTC().Format(time.RFC3339), d.DisabledBy))
	}
	want := []string{
		`jdoe left_agency reported 2026-03-01 disabled 2026-03-02T15:00:00Z by "ssysop"`,
		`broe other reported 2026-03-02 disabled 2026-03-02T16:00:00Z by ""`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("departures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var audited []string
	for _, e := range f.events() {
		if e.Action == hmisauth.EventUserDisabled {
			audited = append(audited, e.Subject+": "+e.Detail)
		}
	}
	if want := []string{"jdoe: reason: left_agency, reported 2026-03-01", "broe: reason: other, reported 2026-03-02"}; !slices.Equal(audited, want) {
		t.Fatalf("audited %v, want %v", audited, want)
	}
	// Enabled again, the departure goes; disabled again, a new one is kept.
	if _, err := f.svc.SetDisabled(f.ctx, "live", jane.Username, false); err != nil {
		t.Fatal(err)
	}
	if deps, _ := f.svc.Departures(f.ctx, "live"); len(deps) != 1 || deps[0].Username != "broe" {
		t.Fatalf("after enabling jdoe: %+v", deps)
	}
}
