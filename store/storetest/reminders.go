package storetest

import (
	"sync"
	"testing"

	"github.com/hmisauth/hmisauth"
)

func remind(t *testing.T, s hmisauth.Store, r hmisauth.Reminder, evs []*hmisauth.Event, ms ...*hmisauth.Message) bool {
	t.Helper()
	ok, err := s.Remind(carrying(t, evs...), r, ms)
	must(t, err)
	return ok
}

var reminderTests = []test{
	{"RemindsOnceWithItsMailAndEvents", func(t *testing.T, s hmisauth.Store) {
		r := hmisauth.Reminder{Site: live, Kind: hmisauth.ReminderAgreement, TargetID: 7, Due: "2026-04-01", At: at(1)}
		m1, m2 := message("jane@example.org", hmisauth.MailAgreementExpiring, 1), message("admin@example.org", hmisauth.MailAgreementExpiring, 2)
		if !remind(t, s, r, []*hmisauth.Event{event("note", "jdoe", "first", 1)}, m1, m2) {
			t.Fatal("first Remind reported false")
		}
		if m1.ID == 0 || m2.ID == 0 {
			t.Fatal("Remind left message IDs zero")
		}
		again := message("jane@example.org", hmisauth.MailAgreementExpiring, 3)
		if remind(t, s, r, []*hmisauth.Event{event("note", "jdoe", "second", 3)}, again) {
			t.Fatal("second Remind of the same reminder reported true")
		}
		if n := len(outbox(t, s)); n != 2 {
			t.Errorf("outbox holds %d messages, want 2", n)
		}
		evs := allEvents(t, s)
		equal(t, "events", details(evs), []string{"first"})
	}},
	{"ANewDueOrTargetIsANewReminder", func(t *testing.T, s hmisauth.Store) {
		r := hmisauth.Reminder{Site: live, Kind: hmisauth.ReminderLicense, TargetID: 1, Due: "2026-04-01", At: at(1)}
		for i, r2 := range []hmisauth.Reminder{r,
			{Site: live, Kind: hmisauth.ReminderLicense, TargetID: 1, Due: "2027-04-01", At: at(1)},
			{Site: live, Kind: hmisauth.ReminderLicense, TargetID: 2, Due: "2026-04-01", At: at(1)},
			{Site: live, Kind: hmisauth.ReminderAgreement, TargetID: 1, Due: "2026-04-01", At: at(1)},
		} {
			if !remind(t, s, r2, nil) {
				t.Errorf("reminder %d was not new", i)
			}
		}
		if remind(t, s, r, nil) {
			t.Error("the first reminder was recorded twice")
		}
	}},
	{"ParallelRemindersSendOnce", func(t *testing.T, s hmisauth.Store) {
		r := hmisauth.Reminder{Site: live, Kind: hmisauth.ReminderInactive, TargetID: 3, Due: "2026-01-01T00:00:00Z", At: at(1)}
		const n = 8
		var wg sync.WaitGroup
		got := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				ctx := carrying(t, event(hmisauth.EventAccountInactive, "jdoe", "", i))
				got[i], errs[i] = s.Remind(ctx, r, []*hmisauth.Message{message("jane@example.org", hmisauth.MailAgreementExpiring, i)})
			})
		}
		wg.Wait()
		wins := 0
		for i := range n {
			must(t, errs[i])
			if got[i] {
				wins++
			}
		}
		if wins != 1 || len(outbox(t, s)) != 1 || len(allEvents(t, s)) != 1 {
			t.Errorf("%d winners, %d messages, %d events; want 1 each", wins, len(outbox(t, s)), len(allEvents(t, s)))
		}
	}},
}
