package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/hmisauth/hmisauth"
)

// RunRetention is the daily clean-up: for every site it deletes the rows that policy.retention
// says no one needs any more (hmisauth.RetentionCutoffs says which), then the rows that belong
// to no site, kept as long as the site that keeps them longest would. Each kind's count goes
// to the metrics (Metrics.Deleted) and all of them to one log line. It never deletes the audit
// log, and appends nothing to it. Every step is atomic in the store, so several processes may
// run it at once; it goes on with the next site when one fails and returns the errors
// together, with the counts of what it did delete.
func (s *Service) RunRetention(ctx context.Context) (hmisauth.RetentionCounts, error) {
	now := s.clock.Now()
	var total hmisauth.RetentionCounts
	var errs []error
	var longest hmisauth.RetentionPolicy
	for _, site := range s.Sites() {
		r := retention(site)
		longest.SentMail = max(longest.SentMail, r.SentMail)
		longest.AbandonedMail = max(longest.AbandonedMail, r.AbandonedMail)
		n, err := s.store.DeleteRetained(ctx, hmisauth.RetentionCutoffs{Site: site.Key,
			UnknownUsernames: now.Add(-r.UnknownUsernames),
			SentMail:         now.Add(-r.SentMail),
			AbandonedMail:    now.Add(-r.AbandonedMail),
			ResetTokens:      now.Add(-r.ResetTokens),
			// A license or agreement is reminded of on or before its due date, a date in the
			// site's zone: one due before the day Reminders reaches back to is never due again.
			ReminderDates: site.Today(now.Add(-r.Reminders)),
			Inactivity:    now.Add(-r.Reminders),
		})
		total = total.Add(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention on site %s: %w", site.Key, err))
		}
	}
	if len(s.sites) > 0 {
		// A message queued without a site, and the rate-limit windows and form tokens, which
		// end once and for all: an ended window never counts again, an expired token never
		// answers again.
		n, err := s.store.DeleteRetained(ctx, hmisauth.RetentionCutoffs{
			SentMail: now.Add(-longest.SentMail), AbandonedMail: now.Add(-longest.AbandonedMail),
			RateLimitWindows: now, FormTokens: now})
		total = total.Add(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention of rows of no site: %w", err))
		}
	}
	args := make([]any, 0, 14)
	for _, k := range total.Kinds() {
		s.metrics.Deleted(k.Kind, k.N)
		args = append(args, k.Kind, k.N)
	}
	s.log.InfoContext(ctx, "retention: rows no longer needed deleted", args...)
	return total, errors.Join(errs...)
}

// retention is the site's retention policy raised to the minimums that break nothing (see
// hmisauth.MinRetainUnknownUsernames): configuration refuses less, but a Site built in code
// (a test, a tool) may leave the policy zero, which must not mean "delete at once".
func retention(site *hmisauth.Site) hmisauth.RetentionPolicy {
	r := site.Policy.Retention
	r.UnknownUsernames = max(r.UnknownUsernames, hmisauth.MinRetainUnknownUsernames, site.Policy.Lockout.AutoUnlockAfter)
	r.SentMail = max(r.SentMail, hmisauth.MinRetainMail)
	r.AbandonedMail = max(r.AbandonedMail, hmisauth.MinRetainMail)
	r.ResetTokens = max(r.ResetTokens, 0)
	r.Reminders = max(r.Reminders, 0)
	return r
}
