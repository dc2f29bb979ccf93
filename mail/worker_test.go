package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
)

// logBuffer collects a worker's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// queue composes a letter and puts it in the outbox.
func queue(t testing.TB, store hmisauth.Store, l hmisauth.Letter) *hmisauth.Message {
	t.Helper()
	m := compose(t, l)
	if err := store.EnqueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// outboxRow is the message's row as the development inbox would show it.
func outboxRow(t testing.TB, store hmisauth.Store, id int64) *hmisauth.Message {
	t.Helper()
	all, err := store.RecentMail(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d is not in the outbox", id)
	return nil
}

func runOnce(t testing.TB, w *mail.Worker) int {
	t.Helper()
	sent, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sent
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t testing.TB) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return addr, n
}

func TestOutboxRidesOutAnSMTPOutage(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	log, logs := newLogger()
	addr, port := freeAddr(t)
	w := mail.NewWorker(store, smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: port, TLS: "none"}), clock, log, mail.WorkerOptions{})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailReset])

	// The mail server is down: the attempt is recorded and the next one is 30 seconds off.
	if sent := runOnce(t, w); sent != 0 {
		t.Fatalf("sent %d with the server down", sent)
	}
	row := outboxRow(t, store, m.ID)
	if row.Attempts != 1 || row.LastError == "" || !row.SentAt.IsZero() || !row.AbandonedAt.IsZero() {
		t.Fatalf("after a failed attempt: attempts %d, error %q, sent %v, abandoned %v", row.Attempts, row.LastError, row.SentAt, row.AbandonedAt)
	}
	if wait := row.NextAttemptAt.Sub(clock.Now()); wait < 22*time.Second || wait > 30*time.Second {
		t.Errorf("next attempt in %v, want 30s less jitter", wait)
	}
	if row.Text == "" {
		t.Error("the body was erased before the message was sent")
	}
	if runOnce(t, w) != 0 || outboxRow(t, store, m.ID).Attempts != 1 {
		t.Error("retried before the backoff passed")
	}

	srv := startMailServer(t, addr, nil)
	clock.Advance(30 * time.Second)
	if sent := runOnce(t, w); sent != 1 {
		t.Fatalf("sent %d once the server was back, want 1", sent)
	}
	if sent := runOnce(t, w); sent != 0 {
		t.Errorf("a further run sent %d", sent)
	}
	clock.Advance(time.Hour)
	runOnce(t, w)
	receivedOne(t, srv, m)
	row = outboxRow(t, store, m.ID)
	if row.SentAt.IsZero() || row.Text != "" || row.HTML != "" {
		t.Errorf("after delivery: sent %v, body kept %v: a reset link must not stay in the database", row.SentAt, row.Text != "")
	}
	if out := logs.String(); !strings.Contains(out, "mail delivery failed") || strings.Contains(out, "token=") {
		t.Errorf("log should record the failure without the link:\n%s", out)
	}
}

func TestTwoWorkersDeliverEachMessageOnce(t *testing.T) {
	path := t.TempDir() + "/hmisauth.db"
	stores := []hmisauth.Store{openStore(t, path), openStore(t, path)} // as two server processes
	clock := newClock()
	srv := startMailServer(t, "127.0.0.1:0", nil)
	mailer := smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none"})

	const n = 50
	l := letters(liveSite(t))[hmisauth.MailPasswordChanged]
	for i := range n {
		l.To = fmt.Sprintf("user%d@agency.example", i)
		queue(t, stores[i%2], l)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, store := range stores {
		w := mail.NewWorker(store, mailer, clock, nil, mail.WorkerOptions{Batch: 3})
		wg.Go(func() {
			deadline := time.Now().Add(30 * time.Second)
			for len(srv.Received()) < n && time.Now().Before(deadline) {
				if _, err := w.RunOnce(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	seen := map[string]int{}
	for _, r := range srv.Received() {
		seen[parseEML(t, r.Data).Header.Get("Message-ID")]++
	}
	if len(seen) != n {
		t.Errorf("%d different messages arrived, want %d", len(seen), n)
	}
	for id, count := range seen {
		if count != 1 {
			t.Errorf("%s arrived %d times", id, count)
		}
	}
	if got := len(srv.Received()); got != n {
		t.Errorf("the server received %d messages, want %d", got, n)
	}
}

func TestExpiredResetLinkIsAbandonedNotSent(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	log, logs := newLogger()
	srv := startMailServer(t, "127.0.0.1:0", nil)
	var abandoned []string
	w := mail.NewWorker(store, smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none"}), clock, log,
		mail.WorkerOptions{OnAbandon: func(_ context.Context, m *hmisauth.Message, reason string) {
			abandoned = append(abandoned, m.MessageID)
		}})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailReset])

	clock.Advance(16 * time.Minute) // the 15-minute link is dead
	if sent := runOnce(t, w); sent != 0 {
		t.Fatalf("sent %d", sent)
	}
	if got := srv.Received(); len(got) != 0 {
		t.Errorf("an expired link was delivered")
	}
	row := outboxRow(t, store, m.ID)
	if row.AbandonedAt.IsZero() || row.Text != "" || row.HTML != "" || !strings.Contains(row.LastError, "expired") {
		t.Errorf("abandoned %v, body kept %v, reason %q", row.AbandonedAt, row.Text != "", row.LastError)
	}
	if len(abandoned) != 1 || abandoned[0] != m.MessageID {
		t.Errorf("OnAbandon heard of %v", abandoned)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN", "mail abandoned", "kind=reset", "site=live", m.MessageID} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "token=") || strings.Contains(out, "jane.doe@") {
		t.Errorf("log holds the link or the address:\n%s", out)
	}
	clock.Advance(time.Hour)
	if runOnce(t, w) != 0 || len(srv.Received()) != 0 {
		t.Error("an abandoned message came back")
	}
}

// mailerFunc is a transport made of a function: for failures a real server cannot be made
// to produce on cue.
type mailerFunc func(context.Context, *hmisauth.Message) error

func (f mailerFunc) Send(ctx context.Context, m *hmisauth.Message) error { return f(ctx, m) }

func TestBackoffDoublesUpToAnHour(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	down := mailerFunc(func(context.Context, *hmisauth.Message) error { return errors.New("connection refused") })
	w := mail.NewWorker(store, down, clock, nil, mail.WorkerOptions{})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailPasswordChanged])

	want := 30 * time.Second
	for attempt := 1; attempt <= 10; attempt++ {
		runOnce(t, w)
		row := outboxRow(t, store, m.ID)
		wait := row.NextAttemptAt.Sub(clock.Now())
		if row.Attempts != attempt || wait < want*3/4 || wait > want {
			t.Fatalf("attempt %d (stored %d): next in %v, want %v less at most a quarter", attempt, row.Attempts, wait, want)
		}
		if !row.AbandonedAt.IsZero() {
			t.Fatal("a notice without an expiry was abandoned")
		}
		clock.Advance(wait)
		want = min(want*2, time.Hour)
	}
}

func TestResetIsRetriedUntilJustBeforeItExpires(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	var tries []time.Time
	down := mailerFunc(func(context.Context, *hmisauth.Message) error {
		tries = append(tries, clock.Now())
		return errors.New("connection refused")
	})
	w := mail.NewWorker(store, down, clock, nil, mail.WorkerOptions{})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailReset])

	for range 100 {
		runOnce(t, w)
		row := outboxRow(t, store, m.ID)
		if !row.AbandonedAt.IsZero() {
			break
		}
		clock.Advance(row.NextAttemptAt.Sub(clock.Now()))
	}
	row := outboxRow(t, store, m.ID)
	if row.AbandonedAt.IsZero() || row.Text != "" {
		t.Fatalf("not abandoned after %d tries", len(tries))
	}
	last := tries[len(tries)-1]
	if last.After(m.DiscardAfter) || m.DiscardAfter.Sub(last) > time.Minute {
		t.Errorf("last try %v before expiry, want within the last minute; tries at %v", m.DiscardAfter.Sub(last), tries)
	}
}

func TestLinkExpiringDuringAFailedTryIsAbandoned(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	slow := mailerFunc(func(context.Context, *hmisauth.Message) error {
		clock.Advance(20 * time.Minute)
		return errors.New("timed out")
	})
	w := mail.NewWorker(store, slow, clock, nil, mail.WorkerOptions{})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailReset])
	runOnce(t, w)
	if row := outboxRow(t, store, m.ID); row.AbandonedAt.IsZero() || row.Text != "" {
		t.Errorf("a link that expired while sending failed was kept for retry")
	}
}

func TestRefusedRecipientIsAbandonedAtOnce(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	srv := startMailServer(t, "127.0.0.1:0", nil, rejectingRecipients())
	w := mail.NewWorker(store, smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none"}), clock, nil, mail.WorkerOptions{})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailPasswordChanged])
	runOnce(t, w)
	if row := outboxRow(t, store, m.ID); row.AbandonedAt.IsZero() || !strings.Contains(row.LastError, "550") {
		t.Errorf("abandoned %v, reason %q", row.AbandonedAt, row.LastError)
	}
}

func TestDevInboxKeepsTheBody(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	dev, err := mail.NewMailer(mail.Options{Transport: "dev", From: from})
	if err != nil {
		t.Fatal(err)
	}
	w := mail.NewWorker(store, dev, clock, nil, mail.WorkerOptions{KeepBody: true})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailReset])
	if sent := runOnce(t, w); sent != 1 {
		t.Fatalf("sent %d", sent)
	}
	if row := outboxRow(t, store, m.ID); row.SentAt.IsZero() || !strings.Contains(row.Text, resetLink) {
		t.Errorf("the dev inbox lost the message: sent %v, text %q", row.SentAt, row.Text)
	}
}

func TestKickSendsWithoutWaitingForThePoll(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	srv := startMailServer(t, "127.0.0.1:0", nil)
	w := mail.NewWorker(store, smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none"}), clock, nil,
		mail.WorkerOptions{Poll: time.Hour})
	l := letters(liveSite(t))[hmisauth.MailPasswordChanged]
	queue(t, store, l)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	waitFor(t, func() bool { return len(srv.Received()) == 1 }) // the first pass, at start

	l.To = "second@agency.example"
	queue(t, store, l)
	w.Kick()
	waitFor(t, func() bool { return len(srv.Received()) == 2 })

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop when its context ended")
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// A worker whose lease runs out while it delivers has lost the message to the next worker,
// which claims it: whatever the stale worker then reports is refused by the store, is no
// error, and leaves the next worker's outcome in place.
func TestAWorkerWhoseLeaseRanOutLeavesTheOutcomeToTheNext(t *testing.T) {
	for _, tc := range []struct {
		name        string
		kind        string
		stale, next error         // what each worker's delivery returns
		wait        time.Duration // how long the stale worker's delivery takes
		staleSent   int           // what the stale worker's RunOnce reports as sent
		check       func(t *testing.T, row *hmisauth.Message)
	}{
		{"StaleFailureAfterTheNextDelivered", hmisauth.MailPasswordChanged, errors.New("timed out"), nil, 2 * time.Minute, 0,
			func(t *testing.T, row *hmisauth.Message) {
				if row.SentAt.IsZero() || row.LastError != "" || row.Attempts != 2 {
					t.Errorf("sent %v, error %q, %d attempts: want the next worker's delivery", row.SentAt, row.LastError, row.Attempts)
				}
			}},
		{"StaleDeliveryAfterTheNextFailed", hmisauth.MailPasswordChanged, nil, errors.New("421 busy"), 2 * time.Minute, 1,
			func(t *testing.T, row *hmisauth.Message) {
				if !row.SentAt.IsZero() || row.LastError != "421 busy" || row.Attempts != 2 {
					t.Errorf("sent %v, error %q, %d attempts: want the next worker's failure", row.SentAt, row.LastError, row.Attempts)
				}
			}},
		{"BothAbandonAnExpiredLink", hmisauth.MailReset, errors.New("timed out"), nil, 20 * time.Minute, 0,
			func(t *testing.T, row *hmisauth.Message) {
				if row.AbandonedAt.IsZero() || !strings.Contains(row.LastError, "expired before") || row.Attempts != 2 {
					t.Errorf("abandoned %v, error %q, %d attempts: want the next worker's abandon", row.AbandonedAt, row.LastError, row.Attempts)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, clock := openStore(t, ""), newClock()
			log, logs := newLogger()
			var abandoned int
			opts := mail.WorkerOptions{OnAbandon: func(context.Context, *hmisauth.Message, string) { abandoned++ }}
			var next *mail.Worker
			sends := 0
			mailer := mailerFunc(func(ctx context.Context, m *hmisauth.Message) error {
				sends++
				if sends > 1 {
					return tc.next
				}
				// The stale worker stalls past its lease; the next one claims the message meanwhile.
				clock.Advance(tc.wait)
				if _, err := next.RunOnce(ctx); err != nil {
					t.Errorf("the next worker: %v", err)
				}
				return tc.stale
			})
			stale := mail.NewWorker(store, mailer, clock, log, opts)
			next = mail.NewWorker(store, mailer, clock, nil, opts)
			m := queue(t, store, letters(liveSite(t))[tc.kind])

			sent, err := stale.RunOnce(context.Background())
			if err != nil || sent != tc.staleSent {
				t.Fatalf("the stale worker: sent %d, %v; want %d and no error", sent, err, tc.staleSent)
			}
			tc.check(t, outboxRow(t, store, m.ID))
			if !strings.Contains(logs.String(), "another worker took the message") {
				t.Errorf("the stale worker did not say its outcome was not recorded:\n%s", logs)
			}
			if tc.kind == hmisauth.MailReset && abandoned != 1 {
				t.Errorf("OnAbandon heard %d times, want once (the next worker's)", abandoned)
			}
		})
	}
}
