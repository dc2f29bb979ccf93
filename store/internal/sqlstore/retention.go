package sqlstore

import (
	"time"

	"github.com/hmisauth/hmisauth"
)

// RetentionQueries are a backend's statements for Store.DeleteRetained, one per kind, each
// removing at most one batch of rows. Their parameters, in order: the site (kinds that have
// one), the cutoff, the batch size, then the kind's own (reminder kinds).
type RetentionQueries struct {
	UnknownUsernames, SentMail, AbandonedMail, ResetTokens string
	ReminderDates, Inactivity                              string
	RateLimits, AddressAttempts, FormTokens                string
}

// DeleteRetained is Store.DeleteRetained over a backend's queries: kind by kind, batch by
// batch, each batch one statement run by exec, which returns how many rows it removed. timeArg
// turns a cutoff into the backend's column value; more says whether a batch that removed
// that many rows may have left more of its kind.
func DeleteRetained(c hmisauth.RetentionCutoffs, q RetentionQueries, batch int, timeArg func(time.Time) any,
	exec func(query string, args []any) (int, error), more func(removed int) bool) (n hmisauth.RetentionCounts, err error) {
	kinds := []struct {
		count *int
		on    bool // a zero cutoff keeps every row of the kind
		query string
		args  []any
	}{
		{&n.UnknownUsernames, !c.UnknownUsernames.IsZero(), q.UnknownUsernames, []any{c.Site, timeArg(c.UnknownUsernames), batch}},
		{&n.SentMail, !c.SentMail.IsZero(), q.SentMail, []any{c.Site, timeArg(c.SentMail), batch}},
		{&n.AbandonedMail, !c.AbandonedMail.IsZero(), q.AbandonedMail, []any{c.Site, timeArg(c.AbandonedMail), batch}},
		{&n.ResetTokens, !c.ResetTokens.IsZero(), q.ResetTokens, []any{c.Site, timeArg(c.ResetTokens), batch}},
		{&n.Reminders, !c.ReminderDates.IsZero(), q.ReminderDates,
			[]any{c.Site, string(c.ReminderDates), batch, hmisauth.ReminderLicense, hmisauth.ReminderAgreement,
				hmisauth.ReminderTraining, hmisauth.ReminderInactivityWarning}},
		{&n.Reminders, !c.Inactivity.IsZero(), q.Inactivity, []any{c.Site, timeArg(c.Inactivity), batch, hmisauth.ReminderInactive}},
		{&n.RateLimitWindows, !c.RateLimitWindows.IsZero(), q.RateLimits, []any{timeArg(c.RateLimitWindows), batch}},
		{&n.RateLimitWindows, !c.RateLimitWindows.IsZero(), q.AddressAttempts, []any{timeArg(c.RateLimitWindows), batch}},
		{&n.FormTokens, !c.FormTokens.IsZero(), q.FormTokens, []any{timeArg(c.FormTokens), batch}},
	}
	for _, k := range kinds {
		for k.on {
			removed, err := exec(k.query, k.args)
			if err != nil {
				return n, err
			}
			*k.count += removed
			k.on = more(removed)
		}
	}
	return n, nil
}
