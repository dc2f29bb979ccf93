package main

import (
	"context"
	"sync"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/config"
	"github.com/hmisauth/hmisauth/mail"
)

// The background work of a server: none of it is needed for correctness across processes
// (every step is atomic in the store), only for promptness.
const (
	requestPoll  = 2 * time.Second  // reset requests left by another process or a CLI command
	expiryCheck  = time.Hour        // password-expiry warnings
	sessionSweep = 10 * time.Minute // deleting timed-out sessions (they are refused anyway)
	refusalCheck = time.Minute      // summarising refusal windows that closed (hmisauth.RefusalWindow)
	dailyJobs    = 24 * time.Hour   // license/agreement reminders, the inactivity record, retention
)

// mailOptions turns the configuration's mail section into the mail package's options.
func mailOptions(m config.Mail) mail.Options {
	return mail.Options{Transport: m.Transport, Dir: m.Dir, From: m.From,
		SMTP: mail.SMTPOptions{Host: m.SMTP.Host, Port: m.SMTP.Port, Username: m.SMTP.Username,
			Password: m.SMTP.Password, TLS: m.SMTP.TLS},
		DKIM: mail.DKIMOptions{Domain: m.DKIM.Domain, Selector: m.DKIM.Selector, PrivateKeyFile: m.DKIM.PrivateKeyFile}}
}

// startBackground starts the outbox worker and the loop that handles reset requests, expiry
// warnings and the session sweep, until ctx ends. The function it returns waits until all of
// it has stopped: the store must stay open until then, or a delivery being recorded (which
// outlives ctx, see mail.Worker) would fail and the message go out again.
func (a *app) startBackground(ctx context.Context, outbox *mail.Worker) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { outbox.Run(ctx) })
	wg.Go(func() { a.oidc.RunLogouts(ctx, nil) })
	wg.Go(func() {
		poll := time.NewTicker(requestPoll)
		expiry := time.NewTicker(expiryCheck)
		sweep := time.NewTicker(sessionSweep)
		daily := time.NewTicker(dailyJobs)
		refusals := time.NewTicker(refusalCheck)
		defer refusals.Stop()
		defer daily.Stop()
		defer poll.Stop()
		defer expiry.Stop()
		defer sweep.Stop()
		a.warnExpiringPasswords(ctx, outbox)
		a.runDailyJobs(ctx, outbox)
		for {
			select {
			case <-ctx.Done():
				return
			case <-a.wake:
				a.handleResetRequests(ctx)
				outbox.Kick()
			case <-poll.C:
				a.handleResetRequests(ctx)
			case <-expiry.C:
				a.warnExpiringPasswords(ctx, outbox)
			case <-sweep.C:
				a.sweepSessions(ctx)
			case <-daily.C:
				a.runDailyJobs(ctx, outbox)
			case <-refusals.C:
				a.summarizeRefusals(ctx)
			}
		}
	})
	return wg.Wait
}

// logError logs a background job's failure, unless it failed because the server is stopping.
func (a *app) logError(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil {
		a.log.Error(msg, "err", err)
	}
}

func (a *app) handleResetRequests(ctx context.Context) {
	for {
		n, err := a.svc.ProcessResetRequests(ctx)
		if err != nil {
			a.logError(ctx, "reset requests", err)
			return
		}
		if n == 0 {
			return
		}
	}
}

func (a *app) warnExpiringPasswords(ctx context.Context, outbox *mail.Worker) {
	if _, err := a.svc.SendPasswordExpiryWarnings(ctx); err != nil {
		a.logError(ctx, "password expiry warnings", err)
	}
	outbox.Kick()
}

// runDailyJobs sends the license and agreement reminders, records newly inactive accounts and
// deletes what policy.retention says no one needs any more; each is done once however often
// (or in however many processes) it runs. Retention runs after the reminders, which it never
// undoes: it keeps every record a reminder still due needs.
func (a *app) runDailyJobs(ctx context.Context, outbox *mail.Worker) {
	if err := a.svc.RunDailyJobs(ctx); err != nil {
		a.logError(ctx, "daily jobs", err)
	}
	if _, err := a.svc.RunRetention(ctx); err != nil {
		a.logError(ctx, "retention", err)
	}
	if err := a.oidc.EnsureKeys(ctx); err != nil {
		a.logError(ctx, "signing keys", err)
	}
	outbox.Kick()
}

// summarizeRefusals writes the audit log's summary of each refusal window that closed.
func (a *app) summarizeRefusals(ctx context.Context) {
	if _, err := a.svc.SummarizeRefusals(ctx); err != nil {
		a.logError(ctx, "refusal summaries", err)
	}
}

func (a *app) sweepSessions(ctx context.Context) {
	now := time.Now()
	// The longest idle time of any site bounds what can still be alive.
	var idle time.Duration
	for _, s := range a.cfg.Sites {
		idle = max(idle, s.Policy.Session.Idle)
	}
	n, err := a.store.DeleteExpiredSessions(ctx, now, now.Add(-idle))
	if err != nil {
		a.log.Warn("session sweep failed", "err", err)
	} else if n > 0 {
		// Swept sessions belong to any site: counted without one.
		a.counts.SessionEnded("", hmisauth.EndedTimedOut, n)
		a.log.Info("timed-out sessions removed", "count", n)
	}
	// Authorization requests and codes are kept a day past their end, so a replayed code is
	// still recognised; delivered logout notices likewise.
	if err := a.store.DeleteExpiredOIDC(ctx, now, now.Add(-24*time.Hour)); err != nil {
		a.log.Warn("OpenID Connect sweep failed", "err", err)
	}
}

// devInbox is the /dev/mail page's source when mail goes nowhere but the outbox.
func (a *app) devInbox() func(ctx context.Context, limit int) ([]*hmisauth.Message, error) {
	if a.cfg.Mail.Transport != "dev" {
		return nil
	}
	return a.store.RecentMail
}
