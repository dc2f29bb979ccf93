package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

const day = 24 * time.Hour

// withTrainings gives the sites two kinds of training, none required yet: the fixture's users
// walk through their first sign-in before a test turns the gate on.
func withTrainings(s *hmisauth.Site) {
	s.Policy.Training.Kinds = map[string]hmisauth.TrainingKind{
		"new_user": {}, "privacy_security": {Valid: 365 * day}, "hud_data": {Valid: 365 * day}}
}

func (f *fixture) requireTraining(kinds ...string) { f.live.Policy.Training.Required = kinds }

func (f *fixture) recordTraining(username, kind string, on hmisauth.Date) {
	f.t.Helper()
	if _, err := f.svc.RecordTraining(f.ctx, "live", username, kind, on); err != nil {
		f.t.Fatalf("RecordTraining %s %s: %v", username, kind, err)
	}
}

// problemCodes runs the login doctor and lists its problem codes with their messages.
func (f *fixture) problems(username string) []hmisauth.Problem {
	f.t.Helper()
	d, err := f.svc.Diagnose(f.ctx, "live", username)
	if err != nil {
		f.t.Fatal(err)
	}
	return d.Problems
}

func wantProblem(t *testing.T, ps []hmisauth.Problem, code, inMessage string) {
	t.Helper()
	for _, p := range ps {
		if p.Code == code {
			if !p.Blocking || !strings.Contains(p.Message, inMessage) || !strings.Contains(strings.ToLower(p.Fix), "record the completed training on the user's page") ||
				!strings.Contains(p.Fix, "--kind "+inMessage) {
				t.Errorf("%s = %+v, want it blocking, naming %s, with the fix", code, p, inMessage)
			}
			return
		}
	}
	t.Errorf("the doctor found %+v, want %s", ps, code)
}

func TestTrainingGate(t *testing.T) {
	f := newFixture(t, withTrainings)
	u := f.user("Jane", "Doe")
	f.requireTraining("new_user", "privacy_security")
	failedBefore := f.reload(u.Username).FailedAttempts

	// Missing: Login failed!, counted like any blocked sign-in, and the doctor names the kind.
	if code := f.attempt(u.Username, goodPassword); code != hmisauth.ELoginFailed {
		t.Fatalf("sign-in without training: %q, want %s", code, hmisauth.ELoginFailed)
	}
	if got := f.reload(u.Username).FailedAttempts; got != failedBefore+1 {
		t.Errorf("failed attempts %d, want %d: a blocked sign-in counts like a wrong password", got, failedBefore+1)
	}
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword})
	if msg := hmisauth.ErrorMessage(err); !strings.HasPrefix(msg, "Login failed!") {
		t.Errorf("message %q, want Login failed!", msg)
	}
	ps := f.problems(u.Username)
	wantProblem(t, ps, hmisauth.ProblemTrainingMissing, "new_user")

	// Recorded (one of them a year ago): signs in; a kind not required (hud_data) never blocks.
	f.recordTraining(u.Username, "new_user", "2025-01-10")
	f.recordTraining(u.Username, "privacy_security", "2025-03-10")
	f.login(u.Username, goodPassword)
	if ps := f.problems(u.Username); len(ps) != 0 {
		t.Errorf("the doctor still finds %+v", ps)
	}

	// privacy_security completed 2025-03-10 counts through 2026-03-09 (site time): on the
	// 10th it has lapsed.
	f.clock.Add(8 * day) // 2026-03-10 in Chicago
	if code := f.attempt(u.Username, goodPassword); code != hmisauth.ELoginFailed {
		t.Fatalf("sign-in with a lapsed training: %q, want %s", code, hmisauth.ELoginFailed)
	}
	wantProblem(t, f.problems(u.Username), hmisauth.ProblemTrainingExpired, "privacy_security")

	// Taken again: the newest completion counts, the old one stays in the history.
	f.recordTraining(u.Username, "privacy_security", "2026-03-10")
	f.login(u.Username, goodPassword)
	records, err := f.store.Trainings(f.ctx, u.ID)
	if err != nil || len(records) != 3 || records[0].CompletedOn != "2026-03-10" || records[2].CompletedOn != "2025-01-10" {
		t.Errorf("history %+v (%v)", records, err)
	}
	evs, err := f.store.Events(f.ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventTrainingRecorded})
	if err != nil || len(evs) != 3 || evs[0].Detail != "privacy_security completed 2026-03-10" {
		t.Errorf("training_recorded events %+v (%v)", evs, err)
	}
}

func TestRecordingATrainingIsChecked(t *testing.T) {
	f := newFixture(t, withTrainings)
	u := f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe"}).User
	for _, tc := range []struct {
		kind  string
		on    hmisauth.Date
		field string
	}{{"first_aid", "2026-01-01", "kind"}, {"new_user", "", "completed_on"}, {"new_user", "2026-03-03", "completed_on"}} {
		_, err := f.svc.RecordTraining(f.ctx, "live", u.Username, tc.kind, tc.on)
		if e := hmisauth.AsError(err); e == nil || e.Code != hmisauth.EINVALID || e.Field != tc.field {
			t.Errorf("%s on %q: %v, want an error about %s", tc.kind, tc.on, err, tc.field)
		}
	}
}

func TestAgencyAdminRecordsOnlyTheirAgencysTraining(t *testing.T) {
	f := newFixture(t, withTrainings)
	f.addAgency("Hope House", 0)
	f.addAgency("Bridge", 0)
	hal := f.adminOf(f.signedInAs("Hal", "Hope", "agency_admin", "Hope House"))
	mine := f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Agency: "Hope House"}).User
	theirs := f.create(auth.NewUser{Site: "live", FirstName: "Bob", LastName: "Roe", Agency: "Bridge"}).User
	if _, err := hal.RecordTraining(f.ctx, mine.Username, "new_user", "2026-02-01"); err != nil {
		t.Fatal(err)
	}
	_, err := hal.RecordTraining(f.ctx, theirs.Username, "new_user", "2026-02-01")
	wantCode(t, err, hmisauth.EFORBIDDEN)
	evs, _ := f.store.Events(f.ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventTrainingRecorded})
	if len(evs) != 1 || evs[0].Actor != "hhope" || evs[0].Subject != mine.Username {
		t.Errorf("events %+v, want one by hhope about %s", evs, mine.Username)
	}
}

func TestTrainingReminderGoesOnceBeforeItLapses(t *testing.T) {
	f := newFixture(t, withTrainings)
	f.requireTraining("privacy_security")
	sam := f.create(auth.NewUser{Site: "live", FirstName: "Sam", LastName: "Sys", Email: "sam@example.org", Role: "sysadmin"}).User
	jane := f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Email: "jane@example.org"}).User
	// Jane's runs out after 2026-04-20: 49 days away, outside reminder_days (30).
	f.recordTraining(jane.Username, "privacy_security", "2025-04-21")
	f.recordTraining(jane.Username, "new_user", "2020-01-01") // never lapses: never reminded
	f.recordTraining(sam.Username, "privacy_security", "2026-01-01")
	training := func() []string {
		var out []string
		for _, m := range f.outbox() {
			if m.Kind == hmisauth.MailTrainingExpiring {
				out = append(out, m.To+": "+m.Subject)
			}
		}
		slices.Sort(out)
		return out
	}
	if _, err := f.svc.SendReminders(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := training(); len(got) != 0 {
		t.Fatalf("reminded 49 days ahead: %q", got)
	}
	f.clock.Add(20 * day) // 29 days ahead
	for range 2 {
		if _, err := f.svc.SendReminders(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"jane@example.org: HMIS Live: your privacy security training runs out after Mon Apr 20, 2026",
		"sam@example.org: HMIS Live: copy: the privacy security training of jdoe runs out after Mon Apr 20, 2026",
	}
	if got := training(); !slices.Equal(got, want) {
		t.Errorf("reminders %q, want %q (once each)", got, want)
	}
	// Taken again: the new completion's lapse is reminded anew, in a year.
	f.recordTraining(jane.Username, "privacy_security", "2026-03-20")
	f.clock.Add(340 * day)
	if _, err := f.svc.SendReminders(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(training()); got != 4 {
		t.Errorf("%d training reminders after renewal, want 4", got)
	}
}

func TestTrainingReports(t *testing.T) {
	f := newFixture(t, withTrainings)
	f.requireTraining("new_user", "privacy_security")
	f.addAgency("Hope House", 0)
	a, err := f.svc.SystemAdmin(f.ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	jane := f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Agency: "Hope House"}).User
	bob := f.create(auth.NewUser{Site: "live", FirstName: "Bob", LastName: "Roe"}).User
	gone := f.create(auth.NewUser{Site: "live", FirstName: "Gus", LastName: "Gone"}).User
	f.recordTraining(jane.Username, "new_user", "2025-06-01")
	f.recordTraining(jane.Username, "privacy_security", "2025-03-20") // counts through 2026-03-19
	f.recordTraining(jane.Username, "hud_data", "2025-03-05")         // not required; through 2026-03-04
	f.recordTraining(bob.Username, "privacy_security", "2025-02-01")  // lapsed after 2026-01-31
	if _, err := f.svc.SetDisabled(f.ctx, "live", gone.Username, true); err != nil {
		t.Fatal(err)
	}
	rows, err := a.Report(f.ctx, auth.ReportExpiringTrainings, 30)
	wantRows(t, "expiring", rows, err,
		"jdoe|Jane Doe|Hope House|hud_data training runs out (completed 2025-03-05)|2026-03-04",
		"jdoe|Jane Doe|Hope House|privacy_security training runs out (completed 2025-03-20)|2026-03-19")
	rows, err = a.Report(f.ctx, auth.ReportMissingTrainings, 0)
	wantRows(t, "missing", rows, err,
		"broe|Bob Roe||privacy_security training lapsed (completed 2025-02-01)|2026-02-01",
		"broe|Bob Roe||new_user training not recorded|")
}

func TestImportRecordsTrainingColumns(t *testing.T) {
	f := newFixture(t, withTrainings)
	plan, err := f.svc.ParseImport(f.ctx, "live", strings.NewReader(
		"first,last,training_new_user,Training Privacy Security\nJane,Doe,2026-01-15,02/01/2026\nBob,Roe,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !plan.OK() || !slices.Equal(plan.Rows[0].Trainings, []string{"new_user on 2026-01-15", "privacy_security on 2026-02-01"}) {
		t.Fatalf("plan %+v problems %q", plan.Rows, plan.Problems())
	}
	if _, err := f.svc.Import(f.ctx, plan); err != nil {
		t.Fatal(err)
	}
	jane := f.reload("jdoe")
	records, err := f.store.Trainings(f.ctx, jane.ID)
	if err != nil || len(records) != 2 || records[0].Kind != "privacy_security" || records[1].CompletedOn != "2026-01-15" {
		t.Errorf("Jane's trainings %+v (%v)", records, err)
	}

	plan, err = f.svc.ParseImport(f.ctx, "live", strings.NewReader(
		"first,last,training_first_aid,training_new_user\nAl,Bee,2026-01-01,2099-01-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"row 2: the completion date cannot be after today.",
		"The column training_first_aid is not a training HMIS Live records (it records: hud_data, new_user, privacy_security)."}
	if got := plan.Problems(); !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}
