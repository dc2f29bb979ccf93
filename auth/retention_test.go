package auth_test

import (
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/auth"
)

// deletedMetrics records Metrics.Deleted, by kind; everything else it ignores.
type deletedMetrics struct {
	hmisauth.NoMetrics
	mu      sync.Mutex
	deleted map[string]int
}

func (m *deletedMetrics) Deleted(kind string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleted[kind] += n
}

// retentionWorld is a fixture whose Service counts into deletedMetrics.
type retentionWorld struct {
	*fixture
	svc     *auth.Service
	metrics *deletedMetrics
}

func newRetentionWorld(t *testing.T, edit ...func(*hmisauth.Site)) *retentionWorld {
	f := newFixture(t, edit...)
	m := &deletedMetrics{deleted: map[string]int{}}
	svc := auth.NewService(auth.Deps{Store: f.store, Clock: f.clock, Hasher: f.hasher,
		Sites: []*hmisauth.Site{f.live, f.train}, Letters: f.letters, PublicURL: publicURL, Metrics: m})
	return &retentionWorld{fixture: f, svc: svc, metrics: m}
}

// run runs the retention job at the clock's time and checks what it deleted, leaving the
// rate-limit windows out (how many the sign-ins and resets opened is the limits' business),
// and that it left the audit log as it was: every event there, the chain intact.
func (w *retentionWorld) run(t *testing.T, want hmisauth.RetentionCounts) hmisauth.RetentionCounts {
	t.Helper()
	before, err := audit.Verify(w.ctx, w.store)
	if err != nil || !before.OK {
		t.Fatalf("audit log before retention: %+v, %v", before, err)
	}
	got, err := w.svc.RunRetention(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	windows := got.RateLimitWindows
	got.RateLimitWindows = 0
	if got != want {
		t.Errorf("at %s retention deleted %+v, want %+v", w.clock.Now().Format(time.RFC3339), got, want)
	}
	after, err := audit.Verify(w.ctx, w.store, *before.Head)
	if err != nil || !after.OK || after.Events != before.Events {
		t.Errorf("audit log after retention: %+v, %v; want it intact with its %d events", after, err, before.Events)
	}
	got.RateLimitWindows = windows
	return got
}

// at sets the clock.
func (w *retentionWorld) at(t time.Time) {
	w.clock.mu.Lock()
	defer w.clock.mu.Unlock()
	w.clock.now = t
}

func TestRetentionDeletesEachKindAfterItsTimeAndNeverTheAuditLog(t *testing.T) {
	w := newRetentionWorld(t)
	t0 := w.clock.Now() // 2026-03-02 15:00 UTC, 09:00 in Chicago
	jane := w.user("Jane", "Doe")
	if _, err := w.svc.RecordAgreement(w.ctx, "live", jane.Username,
		auth.Agreement{Signed: "2025-03-12", Expires: "2026-03-12"}); err != nil {
		t.Fatal(err)
	}
	// A wrong password for Jane, whose count must stay, and a guess at a name no one has.
	if code := w.attempt(jane.Username, "wrong"); code == "" {
		t.Fatal("a wrong password signed in")
	}
	if code := w.attempt("nobody", "wrong"); code == "" {
		t.Fatal("an unknown username signed in")
	}
	if err := w.svc.RequestReset(w.ctx, auth.ForgotRequest{Site: "live", Username: jane.Username, ClientAddr: "192.0.2.10"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ProcessResetRequests(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.svc.SendReminders(w.ctx); err != nil || n != 1 {
		t.Fatalf("SendReminders = %d, %v; want Jane's agreement reminder", n, err)
	}
	// The outbox delivers everything at t0 but the reset e-mail, abandoned when its link
	// expires, and the reminder, which keeps failing: an unsent message is never deleted.
	ms, err := w.store.ClaimMail(w.ctx, t0, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, m := range ms {
		switch m.Kind {
		case hmisauth.MailReset:
			err = w.store.AbandonMail(w.ctx, m, t0.Add(15*time.Minute), "the link expired")
		case hmisauth.MailAgreementExpiring:
			err = w.store.MailFailed(w.ctx, m, t0.AddDate(10, 0, 0), "mailbox full")
		default:
			err = w.store.MailSent(w.ctx, m, t0, false)
			sent++
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if sent == 0 {
		t.Fatal("no message was sent")
	}

	// Every time is the policy's default, counted from when the row stopped mattering.
	const day = 24 * time.Hour
	linkEnd := t0.Add(w.live.Policy.ResetLinkTTL)
	w.at(linkEnd.Add(7 * day))
	if got := w.run(t, hmisauth.RetentionCounts{}); got.RateLimitWindows == 0 {
		t.Error("the ended rate-limit windows of the sign-ins and the reset were not deleted")
	}
	w.at(linkEnd.Add(7*day + time.Second))
	w.run(t, hmisauth.RetentionCounts{ResetTokens: 1})
	w.at(t0.Add(30 * day))
	w.run(t, hmisauth.RetentionCounts{})
	w.at(t0.Add(30*day + time.Second))
	w.run(t, hmisauth.RetentionCounts{UnknownUsernames: 1, SentMail: sent})
	w.at(t0.Add(15*time.Minute + 90*day))
	w.run(t, hmisauth.RetentionCounts{})
	w.at(t0.Add(15*time.Minute + 90*day + time.Second))
	w.run(t, hmisauth.RetentionCounts{AbandonedMail: 1})

	// Jane has not signed in for 90 days: the daily job records it once.
	w.at(t0.Add(91 * day))
	if n, err := w.svc.RecordInactiveAccounts(w.ctx); err != nil || n != 1 {
		t.Fatalf("RecordInactiveAccounts = %d, %v; want Jane", n, err)
	}
	recorded := w.clock.Now()

	// The agreement reminder (due 2026-03-12) goes 365 days after that date has passed in
	// Chicago, not in UTC: 2027-03-13 04:00 UTC is still the 12th there.
	w.at(time.Date(2027, 3, 13, 4, 0, 0, 0, time.UTC))
	w.run(t, hmisauth.RetentionCounts{})
	w.at(time.Date(2027, 3, 13, 6, 0, 0, 0, time.UTC))
	w.run(t, hmisauth.RetentionCounts{Reminders: 1})

	// A year after the inactivity record Jane is still inactive: the record stays, or the job
	// would record the same spell again.
	w.at(recorded.Add(366 * day))
	w.run(t, hmisauth.RetentionCounts{})
	if n, err := w.svc.RecordInactiveAccounts(w.ctx); err != nil || n != 0 {
		t.Errorf("RecordInactiveAccounts after retention = %d, %v; want 0 (recorded already)", n, err)
	}
	if u := w.reload(jane.Username); u.FailedAttempts != 1 {
		t.Errorf("Jane's failed attempts = %d after retention, want 1: an account's lockout row was deleted", u.FailedAttempts)
	}
	// The helpdesk gives her a temporary password: that spell is over, and its record goes.
	if _, err := w.svc.SetTemporaryPassword(w.ctx, "live", jane.Username); err != nil {
		t.Fatal(err)
	}
	w.run(t, hmisauth.RetentionCounts{Reminders: 1})

	left, err := w.store.RecentMail(w.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Kind != hmisauth.MailAgreementExpiring {
		t.Errorf("outbox after retention holds %d messages, want only the unsent reminder", len(left))
	}
	for kind, want := range map[string]int{hmisauth.RetainedUnknownUsernames: 1, hmisauth.RetainedSentMail: sent,
		hmisauth.RetainedAbandonedMail: 1, hmisauth.RetainedResetTokens: 1, hmisauth.RetainedReminders: 2} {
		if got := w.metrics.deleted[kind]; got != want {
			t.Errorf("metrics counted %d deleted %s, want %d", got, kind, want)
		}
	}
	if w.metrics.deleted[hmisauth.RetainedRateLimits] == 0 {
		t.Error("metrics counted no deleted rate-limit windows")
	}
}

// A site whose policy leaves retention at zero (built in code, not loaded from a file) still
// keeps mail an hour and unknown usernames a day, or as long as its locks last when they
// unlock by themselves later: zero never means "at once".
func TestRetentionNeverGoesBelowItsMinimums(t *testing.T) {
	w := newRetentionWorld(t, func(s *hmisauth.Site) {
		s.Policy.Retention = hmisauth.RetentionPolicy{}
		if s.Key == "training" {
			s.Policy.Lockout.AutoUnlockAfter = 48 * time.Hour
		}
	})
	t0 := w.clock.Now()
	for _, site := range []string{"live", "training"} {
		_, err := w.svc.Login(w.ctx, auth.LoginRequest{Site: site, Username: "nobody", Password: "wrong"})
		if hmisauth.ErrorCode(err) == "" {
			t.Fatalf("an unknown username signed in on %s", site)
		}
	}
	m := &hmisauth.Message{Site: "live", To: "jane@example.org", Subject: "s", Text: "t", CreatedAt: t0}
	if err := w.store.EnqueueMail(w.ctx, m); err != nil {
		t.Fatal(err)
	}
	ms, err := w.store.ClaimMail(w.ctx, t0, time.Minute, 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("ClaimMail = %d, %v", len(ms), err)
	}
	if err := w.store.MailSent(w.ctx, ms[0], t0, false); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		after time.Duration
		want  hmisauth.RetentionCounts
	}{
		{time.Hour, hmisauth.RetentionCounts{}},
		{time.Hour + time.Second, hmisauth.RetentionCounts{SentMail: 1}},
		{24 * time.Hour, hmisauth.RetentionCounts{}},
		{24*time.Hour + time.Second, hmisauth.RetentionCounts{UnknownUsernames: 1}}, // live's
		{48 * time.Hour, hmisauth.RetentionCounts{}},
		{48*time.Hour + time.Second, hmisauth.RetentionCounts{UnknownUsernames: 1}}, // training's
	} {
		w.at(t0.Add(step.after))
		w.run(t, step.want)
	}
}
