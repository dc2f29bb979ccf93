package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// WorkerOptions tunes the outbox worker; zero values take the defaults.
type WorkerOptions struct {
	Poll  time.Duration // how often to look for due messages when not kicked (2s)
	Lease time.Duration // how long a claimed message is this worker's alone (1m)
	Batch int           // messages claimed at once (20)
	// KeepBody keeps a sent message's text and HTML: the dev transport's inbox shows them.
	KeepBody bool
	// OnAbandon, if set, is told of each message given up on (for the audit log), after the
	// store has recorded it.
	OnAbandon func(ctx context.Context, m *hmisauth.Message, reason string)
	// Metrics counts each attempt's outcome (Metrics.Mail): sent when the mail server
	// accepted the message, retried and abandoned when the store recorded that outcome; nil
	// counts nothing. A worker whose lease was taken over counts only what it delivered.
	Metrics hmisauth.Metrics
}

// Backoff between attempts: baseRetry after the first failure, doubling to maxRetry.
const (
	baseRetry = 30 * time.Second
	maxRetry  = time.Hour
)

// Worker delivers the outbox. Any number of workers, in one process or several, may run
// over one database: the store's lease gives each message to one worker at a time.
type Worker struct {
	store  hmisauth.Store
	mailer hmisauth.Mailer
	clock  hmisauth.Clock
	log    *slog.Logger
	opts   WorkerOptions
	kick   chan struct{}
}

// NewWorker returns a worker delivering store's outbox through mailer. A nil clock is the
// system's; a nil log discards.
func NewWorker(store hmisauth.Store, mailer hmisauth.Mailer, clock hmisauth.Clock, log *slog.Logger, opts WorkerOptions) *Worker {
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Batch <= 0 {
		opts.Batch = 20
	}
	if clock == nil {
		clock = hmisauth.SystemClock{}
	}
	if opts.Metrics == nil {
		opts.Metrics = hmisauth.NoMetrics{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, mailer: mailer, clock: clock, log: log, opts: opts, kick: make(chan struct{}, 1)}
}

// Kick wakes the worker now instead of at its next poll; call it after queuing a message so
// a reset link goes out at once. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. A full batch is followed at once by the next; otherwise it
// waits for the poll interval or a Kick.
func (w *Worker) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.kick:
		}
		claimed, err := w.runOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("mail outbox", "error", err)
		}
		wait := w.opts.Poll
		if claimed == w.opts.Batch && err == nil {
			wait = 0
		}
		timer.Reset(wait)
	}
}

// RunOnce claims the messages due now and tries each once, recording the outcome: sent,
// failed (with the time of the next try) or abandoned. It returns how many were sent; its
// error is the store's, a failed delivery being recorded rather than returned.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	sent, _, err = w.deliver(ctx)
	return sent, err
}

func (w *Worker) runOnce(ctx context.Context) (claimed int, err error) {
	_, claimed, err = w.deliver(ctx)
	return claimed, err
}

func (w *Worker) deliver(ctx context.Context) (sent, claimed int, err error) {
	msgs, err := w.store.ClaimMail(ctx, w.clock.Now(), w.opts.Lease, w.opts.Batch)
	if err != nil {
		return 0, 0, fmt.Errorf("claim: %w", err)
	}
	// The lease is measured on the monotonic clock: past it another worker may claim the same
	// messages, so none is started unless it can finish (the transport's own time-out is cut
	// to what is left). Leftovers stay leased and are claimed again when the lease ends.
	end := time.Now().Add(w.opts.Lease * 9 / 10)
	var errs []error
	for i, m := range msgs {
		if ctx.Err() != nil {
			break
		}
		if time.Until(end) <= 0 {
			w.log.Warn("mail outbox: lease ran out; the rest of the batch waits for it to end", "left", len(msgs)-i)
			break
		}
		ok, err := w.deliverOne(ctx, m, end)
		if ok {
			sent++
		}
		errs = append(errs, err)
	}
	return sent, len(msgs), errors.Join(errs...)
}

// deliverOne tries m once and records what happened; it reports whether m was sent.
func (w *Worker) deliverOne(ctx context.Context, m *hmisauth.Message, end time.Time) (bool, error) {
	now := w.clock.Now()
	if expired(m, now) {
		return false, w.abandon(ctx, m, now, "its link expired before it could be sent")
	}
	sendCtx, cancel := context.WithDeadline(ctx, end)
	err := w.mailer.Send(sendCtx, m)
	cancel()
	// Whatever happened is recorded even if ctx ended meanwhile (a shutdown): a delivery left
	// unrecorded would be sent again.
	ctx = context.WithoutCancel(ctx)
	now = w.clock.Now()
	if err == nil {
		// Counted as delivered whatever the record says: the mail server has the message.
		w.opts.Metrics.Mail(hmisauth.MailOutcomeSent)
		if err := w.store.MailSent(ctx, m, now, w.opts.KeepBody); leaseLost(err) {
			// Delivered after the lease ran out and another worker claimed the message: it
			// may go twice, and the record is that worker's.
			w.lostLease(m, "sent")
		} else if err != nil {
			// Delivered but not recorded: the message will go again once the lease ends.
			return true, fmt.Errorf("record message %d sent: %w", m.ID, err)
		}
		return true, nil
	}
	reason := truncate(err.Error(), 500)
	switch {
	case IsPermanent(err):
		return false, w.abandon(ctx, m, now, "it cannot be delivered: "+reason)
	case expired(m, now):
		return false, w.abandon(ctx, m, now, "its link expired while delivery kept failing: "+reason)
	}
	// The claim counted this attempt (Store.ClaimMail).
	attempt := max(m.Attempts, 1)
	next := nextAttempt(now, m.DiscardAfter, attempt)
	w.log.Warn("mail delivery failed; will retry",
		"kind", m.Kind, "site", m.Site, "id", m.ID, "message_id", m.MessageID,
		"attempt", attempt, "next_attempt", next, "error", reason)
	if err := w.store.MailFailed(ctx, m, next, reason); leaseLost(err) {
		w.lostLease(m, "failed")
	} else if err != nil {
		return false, fmt.Errorf("record message %d failed: %w", m.ID, err)
	} else {
		w.opts.Metrics.Mail(hmisauth.MailOutcomeRetried)
	}
	return false, nil
}

// abandon gives up on m, logging what and why but never the body or its link.
func (w *Worker) abandon(ctx context.Context, m *hmisauth.Message, now time.Time, reason string) error {
	w.log.Warn("mail abandoned",
		"kind", m.Kind, "site", m.Site, "id", m.ID, "message_id", m.MessageID,
		"attempts", m.Attempts, "reason", reason)
	if err := w.store.AbandonMail(ctx, m, now, reason); leaseLost(err) {
		// The worker holding the message now decides what becomes of it.
		w.lostLease(m, "abandoned")
		return nil
	} else if err != nil {
		return fmt.Errorf("record message %d abandoned: %w", m.ID, err)
	}
	w.opts.Metrics.Mail(hmisauth.MailOutcomeAbandoned)
	if w.opts.OnAbandon != nil {
		w.opts.OnAbandon(ctx, m, reason)
	}
	return nil
}

// leaseLost reports whether the store refused a report because m's lease ran out and another
// worker claimed the message meanwhile (Store.MailSent): not a failure of this worker's, whose
// outcome is simply not the one recorded.
func leaseLost(err error) bool { return hmisauth.ErrorCode(err) == hmisauth.ECONFLICT }

func (w *Worker) lostLease(m *hmisauth.Message, outcome string) {
	w.log.Warn("mail outbox: the lease ran out and another worker took the message; its outcome was not recorded",
		"kind", m.Kind, "site", m.Site, "id", m.ID, "message_id", m.MessageID, "outcome", outcome)
}

func expired(m *hmisauth.Message, now time.Time) bool {
	return !m.DiscardAfter.IsZero() && !now.Before(m.DiscardAfter)
}

// nextAttempt is when to try again after the given failed attempt (1 for the first):
// baseRetry·2^(attempt-1), capped at maxRetry, less up to a quarter at random so that many
// messages failing together do not all come back at once. A message that expires is tried
// again before it does (halfway to its expiry) while there is time for a try.
func nextAttempt(now, discardAfter time.Time, attempt int) time.Time {
	d := maxRetry
	if attempt >= 1 && attempt <= 8 { // 30s·2^7 > 1h already
		d = min(baseRetry<<(attempt-1), maxRetry)
	}
	d -= rand.N(d/4 + 1)
	if !discardAfter.IsZero() {
		if half := discardAfter.Sub(now) / 2; half < d {
			d = max(half, baseRetry/2)
		}
	}
	return now.Add(d)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
