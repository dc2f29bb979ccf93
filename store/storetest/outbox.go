package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// message is an e-mail of the kind to the address, made at t0+sec, holding a link.
func message(to, kind string, sec int) *hmisauth.Message {
	return &hmisauth.Message{
		Site: live, Kind: kind, To: to, Subject: "HMIS Live: " + kind,
		Text:      "Open https://hmis.example.org/live/reset-password?token=secret\n",
		HTML:      `<p><a href="https://hmis.example.org/live/reset-password?token=secret">Reset</a></p>`,
		MessageID: fmt.Sprintf("<%s.%d@hmis.example.org>", kind, sec), CreatedAt: at(sec),
	}
}

// enqueue queues a message made at t0+sec.
func enqueue(t *testing.T, s hmisauth.Store, sec int) *hmisauth.Message {
	t.Helper()
	m := message("jane@example.org", hmisauth.MailPasswordChanged, sec)
	must(t, s.EnqueueMail(t.Context(), m))
	if m.ID == 0 {
		t.Fatal("EnqueueMail left the ID zero")
	}
	return m
}

// outbox is every message in the store, newest first.
func outbox(t *testing.T, s hmisauth.Store) []*hmisauth.Message {
	t.Helper()
	ms, err := s.RecentMail(t.Context(), 1000)
	must(t, err)
	return ms
}

// wantOutbox checks the store holds exactly the messages, newest first.
func wantOutbox(t *testing.T, s hmisauth.Store, want ...*hmisauth.Message) {
	t.Helper()
	got := outbox(t, s)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	equal(t, "RecentMail", got, want)
}

func claim(t *testing.T, s hmisauth.Store, now time.Time, limit int) []*hmisauth.Message {
	t.Helper()
	ms, err := s.ClaimMail(t.Context(), now, time.Minute, limit)
	must(t, err)
	return ms
}

// wantClaim claims at now with a one-minute lease and checks which messages came, in order.
func wantClaim(t *testing.T, s hmisauth.Store, now time.Time, limit int, want ...int64) []*hmisauth.Message {
	t.Helper()
	got := claim(t, s, now, limit)
	ids := make([]int64, len(got))
	for i, m := range got {
		ids[i] = m.ID
	}
	if len(ids) != 0 || len(want) != 0 {
		equal(t, fmt.Sprintf("ClaimMail(%v) IDs", now.Sub(t0)), ids, want)
	}
	return got
}

var outboxTests = []test{
	{"EveryFieldRoundTrips", func(t *testing.T, s hmisauth.Store) {
		m := message("jane@example.org", hmisauth.MailReset, 1)
		m.DiscardAfter, m.NextAttemptAt = at(900), at(5)
		m.Attempts, m.LastError = 2, "421 busy"
		must(t, s.EnqueueMail(t.Context(), m))
		wantOutbox(t, s, m)
	}},
	{"EnqueueMakesAZeroNextAttemptTheCreation", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 1)
		equal(t, "NextAttemptAt", m.NextAttemptAt, at(1))
		wantOutbox(t, s, m)
		wantClaim(t, s, at(1).Add(-time.Microsecond), 10)
		wantClaim(t, s, at(1), 10, m.ID)
	}},
	{"EnqueueStampsAZeroCreation", func(t *testing.T, s hmisauth.Store) {
		m := message("jane@example.org", hmisauth.MailPasswordChanged, 0)
		m.CreatedAt = time.Time{}
		must(t, s.EnqueueMail(t.Context(), m))
		if m.CreatedAt.IsZero() || !m.NextAttemptAt.Equal(m.CreatedAt) {
			t.Errorf("CreatedAt %v, NextAttemptAt %v: want both stamped alike", m.CreatedAt, m.NextAttemptAt)
		}
		wantOutbox(t, s, m)
	}},
	{"ClaimTakesDueMessagesInDueOrder", func(t *testing.T, s hmisauth.Store) {
		// Queued in another order than due: the earliest due goes first, whatever its ID.
		late, second, first, third := enqueue(t, s, 3), enqueue(t, s, 1), enqueue(t, s, 0), enqueue(t, s, 2)
		wantClaim(t, s, at(2), 1, first.ID)
		got := wantClaim(t, s, at(2), 10, second.ID, third.ID)
		for _, m := range got {
			if m.Attempts != 1 || m.To != "jane@example.org" || m.Text == "" {
				t.Errorf("claimed message %d: %d attempts, to %q, text %q", m.ID, m.Attempts, m.To, m.Text)
			}
		}
		wantClaim(t, s, at(2), 10)
		wantClaim(t, s, at(3), 10, late.ID)
	}},
	{"ClaimTakesAtMostTheLimit", func(t *testing.T, s hmisauth.Store) {
		a, b, c := enqueue(t, s, 0), enqueue(t, s, 0), enqueue(t, s, 0)
		wantClaim(t, s, t0, 2, a.ID, b.ID)
		wantClaim(t, s, t0, 2, c.ID)
		wantClaim(t, s, t0, 0)
	}},
	{"ClaimedMessageReappearsWhenItsLeaseRunsOut", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		wantClaim(t, s, t0, 10, m.ID)
		wantClaim(t, s, t0.Add(time.Minute-time.Microsecond), 10)
		got := wantClaim(t, s, t0.Add(time.Minute), 10, m.ID)
		if got[0].Attempts != 2 {
			t.Errorf("Attempts = %d after two claims, want 2", got[0].Attempts)
		}
	}},
	{"SentMessageIsDoneAndLosesItsBody", func(t *testing.T, s hmisauth.Store) {
		m, kept := enqueue(t, s, 0), enqueue(t, s, 1)
		wantClaim(t, s, at(1), 10, m.ID, kept.ID)
		must(t, s.MailSent(t.Context(), m.ID, at(2), false))
		must(t, s.MailSent(t.Context(), kept.ID, at(3), true))
		wantClaim(t, s, at(3600), 10)
		m.Attempts, m.SentAt, m.Text, m.HTML = 1, at(2), "", ""
		kept.Attempts, kept.SentAt = 1, at(3)
		wantOutbox(t, s, kept, m)
		wantCode(t, s.MailSent(t.Context(), 999, t0, false), hmisauth.ENOTFOUND)
	}},
	{"FailedMessageIsRetriedAtItsNextAttempt", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		if _, err := s.ClaimMail(t.Context(), t0, time.Hour, 10); err != nil {
			t.Fatal(err)
		}
		must(t, s.MailFailed(t.Context(), m.ID, at(60), "421 4.7.0 try again later"))
		wantClaim(t, s, at(59), 10)
		// The failure ended the hour's lease: the retry is due at its time.
		got := wantClaim(t, s, at(60), 10, m.ID)
		if got[0].Attempts != 2 || got[0].LastError != "421 4.7.0 try again later" || !got[0].NextAttemptAt.Equal(at(60)) {
			t.Errorf("retried message: %d attempts, last error %q, next %v", got[0].Attempts, got[0].LastError, got[0].NextAttemptAt)
		}
		wantCode(t, s.MailFailed(t.Context(), 999, t0, "x"), hmisauth.ENOTFOUND)
	}},
	{"AbandonedMessageIsNeverClaimedAndLosesItsBody", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		wantClaim(t, s, t0, 10, m.ID)
		must(t, s.MailFailed(t.Context(), m.ID, at(60), "connection refused"))
		must(t, s.AbandonMail(t.Context(), m.ID, at(900), "the link expired"))
		wantClaim(t, s, at(3600), 10)
		m.Attempts, m.NextAttemptAt, m.AbandonedAt = 1, at(60), at(900)
		m.LastError, m.Text, m.HTML = "the link expired", "", ""
		wantOutbox(t, s, m)
		wantCode(t, s.AbandonMail(t.Context(), 999, t0, "x"), hmisauth.ENOTFOUND)
	}},
	{"RecentMailIsNewestFirstWhateverItsState", func(t *testing.T, s hmisauth.Store) {
		var ms []*hmisauth.Message
		for _, sec := range []int{3, 1, 4, 2, 5} {
			ms = append(ms, enqueue(t, s, sec))
		}
		must(t, s.MailSent(t.Context(), ms[2].ID, at(6), true))
		must(t, s.AbandonMail(t.Context(), ms[4].ID, at(6), "gone"))
		got, err := s.RecentMail(t.Context(), 3)
		must(t, err)
		var secs []time.Time
		for _, m := range got {
			secs = append(secs, m.CreatedAt)
		}
		equal(t, "RecentMail(3) creation times", secs, []time.Time{at(5), at(4), at(3)})
		if len(got) == 3 && (got[0].AbandonedAt.IsZero() || got[1].SentAt.IsZero()) {
			t.Errorf("RecentMail lost the states: abandoned %v, sent %v", got[0].AbandonedAt, got[1].SentAt)
		}
	}},
	{"FourParallelClaimersNeverShareAMessage", func(t *testing.T, s hmisauth.Store) {
		parallelClaim(t, []hmisauth.Store{s}, 4, 100)
	}},
}

// ParallelClaim queues n due messages, then has claimers workers per store claim them in
// parallel until none is left, and checks each was claimed exactly once. The stores must
// share one database: backends use it to check two Store values — two processes — agree.
func ParallelClaim(t *testing.T, stores []hmisauth.Store, claimers, n int) {
	t.Helper()
	parallelClaim(t, stores, claimers, n)
}

func parallelClaim(t *testing.T, stores []hmisauth.Store, claimers, n int) {
	t.Helper()
	for range n {
		enqueue(t, stores[0], 0)
	}
	var mu sync.Mutex
	claimed := make(map[int64]int)
	wantNoErrors(t, parallel(claimers*len(stores), func(i int) error {
		// A claim that never runs dry is a broken lease: stop rather than spin.
		for range n {
			ms, err := stores[i%len(stores)].ClaimMail(t.Context(), t0, time.Hour, 7)
			if err != nil || len(ms) == 0 {
				return err
			}
			mu.Lock()
			for _, m := range ms {
				claimed[m.ID]++
			}
			mu.Unlock()
		}
		return nil
	}))
	twice := 0
	for _, k := range claimed {
		if k > 1 {
			twice++
		}
	}
	if len(claimed) != n || twice > 0 {
		t.Errorf("%d of %d messages claimed, %d of them more than once; want each exactly once", len(claimed), n, twice)
	}
}
