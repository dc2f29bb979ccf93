package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// reminders lists the queued reminder e-mails as "kind to" lines, sorted, checking each
// names the site and the helpdesk.
func (w *reportWorld) reminders(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range w.f.outbox() {
		if m.Kind != hmisauth.MailLicenseExpiring && m.Kind != hmisauth.MailAgreementExpiring {
			continue
		}
		for _, want := range []string{"HMIS Live", "helpdesk@example.org or 555-0100"} {
			if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("%s to %s lacks %q:\n%s", m.Kind, m.To, want, m.Text)
			}
		}
		out = append(out, m.Kind+" "+m.To)
	}
	slices.Sort(out)
	return out
}

func TestRemindersAreSentOnceToTheRightPeople(t *testing.T) {
	w := newReportWorld(t)
	f := w.f
	// A second Hope House admin with an address, one without, and one disabled; =Bridge has
	// no admin, so its reminder goes to the sysadmins.
	f.create(auth.NewUser{Site: "live", FirstName: "Ann", LastName: "Other", Email: "ann@example.org", Role: "agency_admin", Agency: "Hope House"})
	f.create(auth.NewUser{Site: "live", FirstName: "Noel", LastName: "Addr", Role: "agency_admin", Agency: "Hope House"})
	gone := f.create(auth.NewUser{Site: "live", FirstName: "Gus", LastName: "Gone", Email: "gus@example.org", Role: "agency_admin", Agency: "Hope House"}).User
	if _, err := f.svc.SetDisabled(f.ctx, "live", gone.Username, true); err != nil {
		t.Fatal(err)
	}
	sys2 := f.create(auth.NewUser{Site: "live", FirstName: "Sue", LastName: "Sys", Email: "sue@example.org", Role: "sysadmin"}).User
	// Bridge's license falls due within 30 days only later; Bob's agreement is due Mar 25.
	if _, err := f.svc.UpdateAgency(f.ctx, "live", "=Bridge", auth.AgencyChange{LicenseExpires: dateP("2026-03-31")}); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.SendReminders(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Hope House's license: its enabled agency admins with an address (Hal is x@example.org).
		"agreement_expiring bob@example.org",
		"agreement_expiring jane@example.org",
		"agreement_expiring sue@example.org", "agreement_expiring sue@example.org", // copies
		"agreement_expiring x@example.org", "agreement_expiring x@example.org", // Sam's copies
		"license_expiring ann@example.org",
		"license_expiring sue@example.org",                                 // =Bridge has no admin: the sysadmins
		"license_expiring x@example.org", "license_expiring x@example.org", // Hal (Hope) and Sam (=Bridge)
	}
	if got := w.reminders(t); strings.Join(got, "\n") != strings.Join(want, "\n") || n != len(want) {
		t.Fatalf("queued %d:\n%s\nwant:\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The copy names the user it is about.
	for _, m := range f.outbox() {
		if m.Kind == hmisauth.MailAgreementExpiring && m.To == sys2.Email && strings.Contains(m.Subject, "jdoe") {
			if !strings.Contains(m.Text, "Jane Doe (username: jdoe)") || !strings.Contains(m.Text, "Sunday, March 15, 2026") {
				t.Errorf("copy:\n%s", m.Text)
			}
		}
	}

	// Run again, and again the next day: nothing more.
	for range 2 {
		if n, err := f.svc.SendReminders(f.ctx); err != nil || n != 0 {
			t.Fatalf("second run queued %d, %v", n, err)
		}
		f.clock.Add(24 * time.Hour)
	}
	if got := w.reminders(t); len(got) != len(want) {
		t.Fatalf("after reruns %d reminders, want %d", len(got), len(want))
	}

	// A renewed agreement is reminded again before its new expiry.
	if _, err := f.svc.RecordAgreement(f.ctx, "live", w.jane.Username, auth.Agreement{Signed: "2025-03-15", Expires: "2026-03-30"}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SendReminders(f.ctx); err != nil || n != 3 {
		t.Fatalf("renewed agreement queued %d (want the user and 2 copies), %v", n, err)
	}
}

func TestNoRemindersWhenReminderDaysIsZero(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.ReminderDays = 0 })
	ag := f.addAgency("Hope House", 0)
	if _, err := f.svc.UpdateAgency(f.ctx, "live", ag.Name, auth.AgencyChange{LicenseExpires: dateP("2026-03-03")}); err != nil {
		t.Fatal(err)
	}
	f.signedInAs("Hal", "Hope", "agency_admin", "Hope House")
	if n, err := f.svc.SendReminders(f.ctx); err != nil || n != 0 {
		t.Fatalf("queued %d, %v", n, err)
	}
}

func TestInactiveAccountsAreRecordedOncePerSpell(t *testing.T) {
	f := newFixture(t)
	jane := f.user("Jane", "Doe")
	f.create(auth.NewUser{Site: "live", FirstName: "Bob", LastName: "Roe", Email: "bob@example.org"})
	gone := f.create(auth.NewUser{Site: "live", FirstName: "Gus", LastName: "Gone"}).User
	if _, err := f.svc.SetDisabled(f.ctx, "live", gone.Username, true); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.RecordInactiveAccounts(f.ctx); err != nil || n != 0 {
		t.Fatalf("today: recorded %d, %v", n, err)
	}
	start := len(f.events())
	f.clock.Add(91 * 24 * time.Hour)
	// Sign-in is refused as before (the job does not change it).
	before := f.attempt(jane.Username, goodPassword)
	for i := range 2 {
		n, err := f.svc.RecordInactiveAccounts(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{2, 0}[i]; n != want {
			t.Fatalf("run %d recorded %d, want %d", i+1, n, want)
		}
	}
	var got []string
	for _, e := range f.events()[start:] {
		if e.Action == hmisauth.EventAccountInactive {
			got = append(got, e.Subject+" by "+e.Actor+": "+e.Detail)
		}
	}
	want := []string{
		"broe by job:daily: inactive since 2026-05-31 10:00 CDT (not used for 90 days)",
		"jdoe by job:daily: inactive since 2026-05-31 10:00 CDT (not used for 90 days)",
	}
	slices.Sort(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if after := f.attempt(jane.Username, goodPassword); after != before || after == "" {
		t.Errorf("sign-in after the job = %q, before %q", after, before)
	}

	// A temporary password reactivates Jane; 91 days after it she is inactive again: a new spell.
	if _, err := f.svc.SetTemporaryPassword(f.ctx, "live", jane.Username); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(91 * 24 * time.Hour)
	if n, err := f.svc.RecordInactiveAccounts(f.ctx); err != nil || n != 1 {
		t.Fatalf("new spell: recorded %d, %v", n, err)
	}
}
