package storetest

import (
	"context"
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

// claimOf is the claim of message id among ms.
func claimOf(t *testing.T, ms []*hmisauth.Message, id int64) *hmisauth.Message {
	t.Helper()
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d was not claimed", id)
	return nil
}

// unknownMessage is m's claim with an ID no message has.
func unknownMessage(m *hmisauth.Message) *hmisauth.Message {
	c := *m
	c.ID = 1 << 40
	return &c
}

// messageRow is message id as the store holds it.
func messageRow(t *testing.T, s hmisauth.Store, id int64) *hmisauth.Message {
	t.Helper()
	for _, m := range outbox(t, s) {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d is not in the outbox", id)
	return nil
}

// The outcomes a worker reports.
var mailOutcomes = []string{"sent", "failed", "abandoned"}

// reportMail reports the outcome of the claim c at t0+sec: sent (erasing the body), failed
// (due again in an hour) or abandoned, each saying when.
func reportMail(ctx context.Context, s hmisauth.Store, c *hmisauth.Message, outcome string, sec int) error {
	switch outcome {
	case "sent":
		return s.MailSent(ctx, c, at(sec), false)
	case "failed":
		return s.MailFailed(ctx, c, at(3600), fmt.Sprint("failed at ", sec))
	}
	return s.AbandonMail(ctx, c, at(sec), fmt.Sprint("abandoned at ", sec))
}

// reported sets in m what reportMail(outcome, sec) records.
func reported(m *hmisauth.Message, outcome string, sec int) {
	m.LeasedUntil = time.Time{}
	switch outcome {
	case "sent":
		m.SentAt, m.Text, m.HTML = at(sec), "", ""
	case "failed":
		m.NextAttemptAt, m.LastError = at(3600), fmt.Sprint("failed at ", sec)
	default:
		m.AbandonedAt, m.LastError, m.Text, m.HTML = at(sec), fmt.Sprint("abandoned at ", sec), "", ""
	}
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
		got := wantClaim(t, s, at(1), 10, m.ID, kept.ID)
		must(t, s.MailSent(t.Context(), got[0], at(2), false))
		must(t, s.MailSent(t.Context(), got[1], at(3), true))
		wantClaim(t, s, at(3600), 10)
		m.Attempts, m.SentAt, m.Text, m.HTML = 1, at(2), "", ""
		kept.Attempts, kept.SentAt = 1, at(3)
		wantOutbox(t, s, kept, m)
		wantCode(t, s.MailSent(t.Context(), unknownMessage(got[0]), t0, false), hmisauth.ENOTFOUND)
	}},
	{"FailedMessageIsRetriedAtItsNextAttempt", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		ms, err := s.ClaimMail(t.Context(), t0, time.Hour, 10)
		must(t, err)
		must(t, s.MailFailed(t.Context(), ms[0], at(60), "421 4.7.0 try again later"))
		wantClaim(t, s, at(59), 10)
		// The failure ended the hour's lease: the retry is due at its time.
		got := wantClaim(t, s, at(60), 10, m.ID)
		if got[0].Attempts != 2 || got[0].LastError != "421 4.7.0 try again later" || !got[0].NextAttemptAt.Equal(at(60)) {
			t.Errorf("retried message: %d attempts, last error %q, next %v", got[0].Attempts, got[0].LastError, got[0].NextAttemptAt)
		}
		wantCode(t, s.MailFailed(t.Context(), unknownMessage(got[0]), t0, "x"), hmisauth.ENOTFOUND)
	}},
	{"AbandonedMessageIsNeverClaimedAndLosesItsBody", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		first := wantClaim(t, s, t0, 10, m.ID)
		must(t, s.MailFailed(t.Context(), first[0], at(60), "connection refused"))
		retry := wantClaim(t, s, at(60), 10, m.ID)
		must(t, s.AbandonMail(t.Context(), retry[0], at(900), "the link expired"))
		wantClaim(t, s, at(3600), 10)
		m.Attempts, m.NextAttemptAt, m.AbandonedAt = 2, at(60), at(900)
		m.LastError, m.Text, m.HTML = "the link expired", "", ""
		wantOutbox(t, s, m)
		wantCode(t, s.AbandonMail(t.Context(), unknownMessage(retry[0]), t0, "x"), hmisauth.ENOTFOUND)
	}},
	{"AbandoningWithoutAReasonKeepsTheLastError", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		must(t, s.MailFailed(t.Context(), wantClaim(t, s, t0, 10, m.ID)[0], at(60), "connection refused"))
		must(t, s.AbandonMail(t.Context(), wantClaim(t, s, at(60), 10, m.ID)[0], at(900), ""))
		m.Attempts, m.NextAttemptAt, m.AbandonedAt = 2, at(60), at(900)
		m.LastError, m.Text, m.HTML = "connection refused", "", ""
		wantOutbox(t, s, m)
	}},
	{"RecentMailIsNewestFirstWhateverItsState", func(t *testing.T, s hmisauth.Store) {
		var ms []*hmisauth.Message
		for _, sec := range []int{3, 1, 4, 2, 5} {
			ms = append(ms, enqueue(t, s, sec))
		}
		claimed := claim(t, s, at(6), 10)
		must(t, s.MailSent(t.Context(), claimOf(t, claimed, ms[2].ID), at(6), true))
		must(t, s.AbandonMail(t.Context(), claimOf(t, claimed, ms[4].ID), at(6), "gone"))
		got, err := s.RecentMail(t.Context(), 3)
		must(t, err)
		var secs []time.Time
		for _, m := range got {
			secs = append(secs, m.CreatedAt)
		}
		equal(t, "RecentMail(3) creation times", secs, []time.Time{at(5), at(4), at(3)})
		if len(got) == 3 && (got[0].AbandonedAt.IsZero() || got[1].SentAt.IsZero() || !got[2].LeasedUntil.Equal(at(66))) {
			t.Errorf("RecentMail lost the states: abandoned %v, sent %v, leased until %v", got[0].AbandonedAt, got[1].SentAt, got[2].LeasedUntil)
		}
	}},
	{"AClaimNamesItsLeaseAndAReportEndsIt", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		got := wantClaim(t, s, at(1), 10, m.ID)
		m.Attempts, m.LeasedUntil = 1, at(61)
		equal(t, "claimed message", got[0], m)
		wantOutbox(t, s, m) // a lookup shows the lease too
		must(t, s.MailFailed(t.Context(), got[0], at(30), "421 busy"))
		m.LeasedUntil, m.NextAttemptAt, m.LastError = time.Time{}, at(30), "421 busy"
		wantOutbox(t, s, m)
	}},
	{"AReportOnALeaseThatRanOutUnclaimedStillCounts", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		got := wantClaim(t, s, t0, 10, m.ID)
		// The worker was slow, but no other took the message meanwhile: its delivery stands.
		must(t, s.MailSent(t.Context(), got[0], at(600), false))
		m.Attempts, m.SentAt, m.Text, m.HTML = 1, at(600), "", ""
		wantOutbox(t, s, m)
	}},
	{"AReportNamingNoCurrentLeaseChangesNothing", func(t *testing.T, s hmisauth.Store) {
		m := enqueue(t, s, 0)
		ev := event("test", "jdoe", "must not be written", 1)
		wantCode(t, s.MailSent(carrying(t, ev), m, at(1), false), hmisauth.ECONFLICT) // never claimed
		got := wantClaim(t, s, t0, 10, m.ID)
		forged := *got[0]
		forged.LeasedUntil = forged.LeasedUntil.Add(time.Microsecond)
		wantCode(t, s.MailSent(carrying(t, ev), &forged, at(1), false), hmisauth.ECONFLICT)
		forged = *got[0]
		forged.Attempts++
		wantCode(t, s.AbandonMail(carrying(t, ev), &forged, at(1), "x"), hmisauth.ECONFLICT)
		must(t, s.MailSent(t.Context(), got[0], at(2), true))
		// A second report on the same lease: the outcome is the first's.
		wantCode(t, s.MailSent(carrying(t, ev), got[0], at(3), false), hmisauth.ECONFLICT)
		wantCode(t, s.MailFailed(carrying(t, ev), got[0], at(60), "late failure"), hmisauth.ECONFLICT)
		wantCode(t, s.AbandonMail(carrying(t, ev), got[0], at(90), "late abandon"), hmisauth.ECONFLICT)
		if ev.ID != 0 {
			t.Errorf("a report that changed nothing appended its event (ID %d)", ev.ID)
		}
		m.Attempts, m.SentAt = 1, at(2)
		wantOutbox(t, s, m)
	}},
	{"AWorkerWhoseLeaseRanOutCannotOverwriteTheNextOnes", func(t *testing.T, s hmisauth.Store) {
		for _, outcome := range mailOutcomes {
			t.Run(outcome, func(t *testing.T) {
				m := enqueue(t, s, 0)
				a := wantClaim(t, s, t0, 1, m.ID)[0]                  // worker A, which stalls
				b := wantClaim(t, s, t0.Add(time.Minute), 1, m.ID)[0] // worker B, after A's lease
				for _, how := range mailOutcomes {                    // A wakes while B holds it
					wantCode(t, reportMail(t.Context(), s, a, how, 70), hmisauth.ECONFLICT)
				}
				wantClaim(t, s, at(90), 10) // B's lease stands
				must(t, reportMail(t.Context(), s, b, outcome, 100))
				for _, how := range mailOutcomes { // A wakes after B's report
					wantCode(t, reportMail(t.Context(), s, a, how, 110), hmisauth.ECONFLICT)
				}
				m.Attempts = 2
				reported(m, outcome, 100)
				equal(t, "the message", messageRow(t, s, m.ID), m)
			})
		}
	}},
	{"ParallelWorkersNeverReportOverTheOwnerOfAMessage", func(t *testing.T, s hmisauth.Store) {
		parallelMailTakeover(t, []hmisauth.Store{s}, 4, 60)
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

// ParallelMailTakeover queues n messages and claims them all at t0 for a worker that then
// stalls past its one-minute lease. In parallel over the stores, that worker wakes and reports
// each message (sent, failed or abandoned in turn) while workers more claim the messages due
// after its lease, three at a time, and report them sent. Each message must have exactly one
// report that counted: the stale worker's if it came before any other claim (every later one
// is ECONFLICT), else that of the one worker that claimed it after the lease, whose result
// stands. The stores must share one database: backends use it to check that two Store values
// — two processes — agree.
func ParallelMailTakeover(t *testing.T, stores []hmisauth.Store, workers, n int) {
	t.Helper()
	parallelMailTakeover(t, stores, workers, n)
}

func parallelMailTakeover(t *testing.T, stores []hmisauth.Store, workers, n int) {
	t.Helper()
	for range n {
		enqueue(t, stores[0], 0)
	}
	takeover[*hmisauth.Message]{
		what: "message",
		id:   func(m *hmisauth.Message) int64 { return m.ID },
		view: func(m *hmisauth.Message) leaseView {
			return leaseView{m.Attempts, m.SentAt, m.AbandonedAt, m.NextAttemptAt, m.LeasedUntil, m.LastError}
		},
		claim:  hmisauth.Store.ClaimMail,
		report: reportMail,
		rows:   outbox,
	}.run(t, stores, workers, n)
}

// leaseView is what a takeover checks of a message or a logout notice.
type leaseView struct {
	Attempts                                        int
	SentAt, AbandonedAt, NextAttemptAt, LeasedUntil time.Time
	LastError                                       string
}

// takeover runs ParallelMailTakeover or ParallelLogoutTakeover on n things (messages or
// notices) of type T due at t0, reading and reporting them through its functions.
type takeover[T any] struct {
	what   string
	id     func(T) int64
	view   func(T) leaseView
	claim  func(s hmisauth.Store, ctx context.Context, now time.Time, lease time.Duration, limit int) ([]T, error)
	report func(ctx context.Context, s hmisauth.Store, c T, outcome string, sec int) error
	rows   func(t *testing.T, s hmisauth.Store) []T
}

func (k takeover[T]) run(t *testing.T, stores []hmisauth.Store, workers, n int) {
	t.Helper()
	stale, err := k.claim(stores[0], t.Context(), t0, time.Minute, n)
	must(t, err)
	if len(stale) != n {
		t.Fatalf("the first claim took %d of %d %ss", len(stale), n, k.what)
	}
	outcome := make(map[int64]string) // what the stale worker reports
	for i, c := range stale {
		outcome[k.id(c)] = mailOutcomes[i%len(mailOutcomes)]
	}
	var mu sync.Mutex
	staleCounted := make(map[int64]bool)
	owned := make(map[int64]int) // claims after the lease
	w := workers * len(stores)
	wantNoErrors(t, parallel(2*w, func(i int) error {
		s := stores[i%len(stores)]
		if i < w { // the stale worker's reports, shared out
			for j := i; j < n; j += w {
				id := k.id(stale[j])
				err := k.report(t.Context(), s, stale[j], outcome[id], 70)
				switch hmisauth.ErrorCode(err) {
				case "":
					mu.Lock()
					staleCounted[id] = true
					mu.Unlock()
				case hmisauth.ECONFLICT:
				default:
					return fmt.Errorf("the stale report on %s %d: %w", k.what, id, err)
				}
			}
			return nil
		}
		for range n { // a claim that never runs dry is a broken lease: stop rather than spin
			cs, err := k.claim(s, t.Context(), t0.Add(time.Minute), time.Hour, 3)
			if err != nil || len(cs) == 0 {
				return err
			}
			for _, c := range cs {
				mu.Lock()
				owned[k.id(c)]++
				mu.Unlock()
				if err := k.report(t.Context(), s, c, "sent", 80); err != nil {
					return fmt.Errorf("the owner's report on %s %d: %w", k.what, k.id(c), err)
				}
			}
		}
		return nil
	}))
	for _, c := range k.rows(t, stores[0]) {
		id := k.id(c)
		what := fmt.Sprintf("%s %d", k.what, id)
		switch {
		case owned[id] > 1:
			t.Errorf("%s was claimed %d times after the lease", what, owned[id])
		case owned[id] == 1 && staleCounted[id]:
			t.Errorf("%s: the stale worker's report counted, and another worker claimed it", what)
		case owned[id] == 1:
			equal(t, what+" (the owner's result)", k.view(c), leaseView{Attempts: 2, SentAt: at(80), NextAttemptAt: t0})
		case !staleCounted[id]:
			t.Errorf("%s: the stale report was refused, yet no other worker claimed it", what)
		default:
			want := &hmisauth.Message{Attempts: 1, NextAttemptAt: t0}
			reported(want, outcome[id], 70)
			equal(t, what+" (the stale worker's result)", k.view(c),
				leaseView{want.Attempts, want.SentAt, want.AbandonedAt, want.NextAttemptAt, want.LeasedUntil, want.LastError})
		}
	}
}
