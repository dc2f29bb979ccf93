package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

// retentionFixture holds one row of every kind DeleteRetained removes, each made at a known
// time, next to rows it must never remove.
type retentionFixture struct {
	jdoe, back *hmisauth.User
	pending    *hmisauth.Message // never claimed: must stay whatever the cutoff
	training   *hmisauth.Message // sent, but on the other site
	liveToken  []byte            // a reset link still working
	inactive   hmisauth.Reminder // jdoe is still inactive: the record must stay
	license    hmisauth.Reminder
	windowEnd  time.Time // when the rate-limit windows made at t0 end
	events     int
}

func newRetentionFixture(t *testing.T, s hmisauth.Store) *retentionFixture {
	ctx := t.Context()
	f := &retentionFixture{}
	f.jdoe = newUser(t, s, live, "jdoe")
	f.back = newUser(t, s, live, "back")
	// An account's failed attempt is a live feature's state, however old.
	reserve(t, s, "jdoe", 3, 0)
	// ghost: one guess at at(10). locked-ghost: two guesses at at(5) and at(6), then locked
	// at at(20) when the threshold fell to 2, after its last counted guess.
	reserve(t, s, "ghost", 3, 10)
	reserve(t, s, "locked-ghost", 3, 5)
	reserve(t, s, "locked-ghost", 3, 6)
	if a, err := s.ReserveLoginAttempt(ctx, live, "locked-ghost", 2, at(20)); err != nil || a.LockedAt.IsZero() {
		t.Fatalf("locking locked-ghost: %+v, %v", a, err)
	}
	if _, err := s.ReserveLoginAttempt(ctx, training, "ghost", 3, at(10)); err != nil {
		t.Fatal(err)
	}

	// Mail: one sent and one abandoned at at(100), one never claimed, one sent on training.
	sent, abandoned := enqueue(t, s, 0), enqueue(t, s, 0)
	f.pending = enqueue(t, s, 0)
	f.training = message("jane@example.org", hmisauth.MailPasswordChanged, 0)
	f.training.Site = training
	must(t, s.EnqueueMail(ctx, f.training))
	ms := claim(t, s, at(50), 10)
	for _, m := range ms {
		switch m.ID {
		case sent.ID, f.training.ID:
			must(t, s.MailSent(ctx, m, at(100), false))
		case abandoned.ID:
			must(t, s.AbandonMail(ctx, m, at(100), "the mail server refused the address"))
		case f.pending.ID:
			must(t, s.MailFailed(ctx, m, at(1_000_000), "the mail server is down"))
		}
	}

	// Reset links: jdoe's expired at at(100); back's works until long after.
	must(t, s.StartReset(ctx, &hmisauth.ResetToken{UserID: f.jdoe.ID, Site: live, TokenHash: tokenHash("old-link"),
		CreatedAt: at(0), ExpiresAt: at(100)}, nil))
	f.liveToken = tokenHash("live-link")
	must(t, s.StartReset(ctx, &hmisauth.ResetToken{UserID: f.back.ID, Site: live, TokenHash: f.liveToken,
		CreatedAt: at(0), ExpiresAt: at(1_000_000_000)}, nil))

	// Reminders: a license due 2026-03-05 and an agreement due 2026-03-06 (t0 is 2026-03-02);
	// inactivity records at at(100) of jdoe (still inactive), of back (who signs in at
	// at(200)) and of a user who no longer exists.
	f.license = hmisauth.Reminder{Site: live, Kind: hmisauth.ReminderLicense, TargetID: 1, Due: "2026-03-05", At: at(1)}
	f.inactive = hmisauth.Reminder{Site: live, Kind: hmisauth.ReminderInactive, TargetID: f.jdoe.ID,
		Due: "2026-03-01T00:00:00Z", At: at(100)}
	for _, r := range []hmisauth.Reminder{f.license, f.inactive,
		{Site: live, Kind: hmisauth.ReminderAgreement, TargetID: f.jdoe.ID, Due: "2026-03-06", At: at(1)},
		// A training reminder and an inactivity warning: their dues start with the date.
		{Site: live, Kind: hmisauth.ReminderTraining, TargetID: f.jdoe.ID, Due: "2026-03-05 new_user", At: at(1)},
		{Site: live, Kind: hmisauth.ReminderInactivityWarning, TargetID: f.jdoe.ID, Due: "2026-03-05T00:00:00Z", At: at(1)},
		{Site: live, Kind: hmisauth.ReminderInactive, TargetID: f.back.ID, Due: "2026-03-01T00:00:00Z", At: at(100)},
		{Site: live, Kind: hmisauth.ReminderInactive, TargetID: f.back.ID + 1000, Due: "2026-03-01T00:00:00Z", At: at(100)},
	} {
		if !remind(t, s, r, nil) {
			t.Fatalf("reminder %+v was not new", r)
		}
	}
	must(t, s.LoginSucceeded(ctx, f.back.ID, at(200)))

	// Rate limits: a window of each kind, a minute long, holding t0.
	if _, err := s.HitRateLimit(ctx, "reset-address:live:192.0.2.10", time.Minute, 5, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReserveAddressAttempt(ctx, hmisauth.AddressAttempt{Key: "login:live:192.0.2.10", Subject: "digest",
		Window: time.Minute, At: t0, MaxAttempts: 10, MaxSubjects: 10}); err != nil {
		t.Fatal(err)
	}
	f.windowEnd = hmisauth.WindowEnd(t0, time.Minute)

	must(t, s.AppendEvents(ctx, event("note", "jdoe", "before retention", 300)))
	f.events = len(wantChain(t, s))
	return f
}

// cutoffs are retention cutoffs for live, each at (or, with after, a microsecond after) the
// time its fixture rows were made.
func (f *retentionFixture) cutoffs(after time.Duration) hmisauth.RetentionCutoffs {
	day := hmisauth.Date("2026-03-05")
	if after > 0 {
		day = "2026-03-06"
	}
	return hmisauth.RetentionCutoffs{Site: live, UnknownUsernames: at(10).Add(after), SentMail: at(100).Add(after),
		AbandonedMail: at(100).Add(after), ResetTokens: at(100).Add(after), ReminderDates: day,
		Inactivity: at(100).Add(after), RateLimitWindows: f.windowEnd.Add(after - time.Microsecond)}
}

func deleteRetained(t *testing.T, s hmisauth.Store, c hmisauth.RetentionCutoffs, want hmisauth.RetentionCounts) {
	t.Helper()
	// The context carries an event, which DeleteRetained must not append.
	got, err := s.DeleteRetained(carrying(t, event("note", "jdoe", "not for the log", 400)), c)
	must(t, err)
	equal(t, "DeleteRetained counts", got, want)
}

var retentionTests = []test{
	{"EachKindGoesAfterItsTimeAndNotBefore", func(t *testing.T, s hmisauth.Store) {
		ctx := t.Context()
		f := newRetentionFixture(t, s)
		// Zero cutoffs remove nothing; cutoffs at the rows' own times remove nothing either.
		deleteRetained(t, s, hmisauth.RetentionCutoffs{Site: live}, hmisauth.RetentionCounts{})
		deleteRetained(t, s, f.cutoffs(0), hmisauth.RetentionCounts{})
		// A microsecond later: ghost (not locked-ghost, locked at at(20)), the sent and the
		// abandoned message, jdoe's expired link, the license, training and inactivity-warning
		// reminders (not the agreement, due a day later), back's and the missing user's
		// inactivity records (not jdoe's), and both windows, which end at windowEnd.
		deleteRetained(t, s, f.cutoffs(time.Microsecond), hmisauth.RetentionCounts{
			UnknownUsernames: 1, SentMail: 1, AbandonedMail: 1, ResetTokens: 1, Reminders: 5, RateLimitWindows: 2})
		// Far later, what is left of the kinds goes, and nothing a feature needs.
		far := at(100_000_000)
		deleteRetained(t, s, hmisauth.RetentionCutoffs{Site: live, UnknownUsernames: far, SentMail: far,
			AbandonedMail: far, ResetTokens: far, ReminderDates: "2099-01-01", Inactivity: far, RateLimitWindows: far},
			hmisauth.RetentionCounts{UnknownUsernames: 1, Reminders: 1})

		if u := reload(t, s, f.jdoe); u.FailedAttempts != 1 {
			t.Errorf("jdoe's failed attempts = %d, want 1: an account's lockout row was removed", u.FailedAttempts)
		}
		if a := reserve(t, s, "ghost", 3, 500); a.Count != 1 {
			t.Errorf("ghost's next guess counts %d, want 1 (its old count removed)", a.Count)
		}
		if a, err := s.ReserveLoginAttempt(ctx, training, "ghost", 3, at(500)); err != nil || a.Count != 2 {
			t.Errorf("training's ghost counts %d (%v), want 2: another site's row was removed", a.Count, err)
		}
		var ids []int64
		for _, m := range outbox(t, s) {
			ids = append(ids, m.ID)
		}
		equal(t, "messages left", ids, []int64{f.training.ID, f.pending.ID})
		if _, err := s.ResetToken(ctx, f.liveToken, at(500)); err != nil {
			t.Errorf("the live reset link: %v", err)
		}
		if remind(t, s, f.inactive, nil) {
			t.Error("jdoe's inactivity was recorded again: the record of a spell still going on was removed")
		}
		if !remind(t, s, f.license, nil) {
			t.Error("the past license reminder is still recorded")
		}
		if r, err := audit.Verify(ctx, s); err != nil || !r.OK || r.Events != f.events {
			t.Errorf("audit.Verify after retention = %+v, %v; want OK with the %d events", r, err, f.events)
		}
	}},
	{"OneCallRemovesMoreThanABatch", func(t *testing.T, s hmisauth.Store) {
		// Both backends remove 1000 rows a statement: one call goes on until none is left.
		const n = 1500
		unknownUsernames(t, []hmisauth.Store{s}, n)
		deleteRetained(t, s, hmisauth.RetentionCutoffs{Site: live, UnknownUsernames: at(1)},
			hmisauth.RetentionCounts{UnknownUsernames: n})
	}},
	{"RowsOfNoSite", func(t *testing.T, s hmisauth.Store) {
		// A message queued without a site is removed by the call for site "", and only by it.
		m := message("jane@example.org", hmisauth.MailPasswordChanged, 0)
		m.Site = ""
		must(t, s.EnqueueMail(t.Context(), m))
		must(t, s.MailSent(t.Context(), claim(t, s, at(1), 1)[0], at(2), false))
		deleteRetained(t, s, hmisauth.RetentionCutoffs{Site: live, SentMail: at(3)}, hmisauth.RetentionCounts{})
		deleteRetained(t, s, hmisauth.RetentionCutoffs{SentMail: at(3)}, hmisauth.RetentionCounts{SentMail: 1})
		wantOutbox(t, s)
	}},
}

// ParallelRetention runs DeleteRetained from every store at once over more unknown usernames
// than one batch of either backend holds: every row goes, and is counted, once.
func ParallelRetention(t *testing.T, stores []hmisauth.Store, n int) {
	unknownUsernames(t, stores, n)
	c := hmisauth.RetentionCutoffs{Site: live, UnknownUsernames: at(1)}
	var mu sync.Mutex
	var total int
	var wg sync.WaitGroup
	for i := range 2 * len(stores) {
		wg.Go(func() {
			got, err := stores[i%len(stores)].DeleteRetained(t.Context(), c)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += got.UnknownUsernames
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != n {
		t.Errorf("parallel runs counted %d removed rows of %d", total, n)
	}
	got, err := stores[0].DeleteRetained(t.Context(), c)
	if err != nil || got != (hmisauth.RetentionCounts{}) {
		t.Errorf("a run after them removed %+v (%v); want nothing left", got, err)
	}
}

// unknownUsernames makes n lockout rows of usernames no account has, guessed at t0, spread
// over the stores.
func unknownUsernames(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	for i := range n {
		if _, err := stores[i%len(stores)].ReserveLoginAttempt(t.Context(), live, fmt.Sprintf("ghost%d", i), 3, t0); err != nil {
			t.Fatal(err)
		}
	}
}
