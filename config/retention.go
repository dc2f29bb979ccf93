package config

import (
	"time"

	"github.com/hmisauth/hmisauth"
)

// checkRetention refuses a negative retention time, and one shorter than a feature needs the
// row for: each minimum is hmisauth's (auth never keeps less anyway), said here with its
// reason so the operator knows why the number is refused.
func (l *loader) checkRetention(p string, pol hmisauth.Policy) {
	r := pol.Retention
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"unknown_usernames", r.UnknownUsernames}, {"sent_mail", r.SentMail}, {"abandoned_mail", r.AbandonedMail},
		{"reset_tokens", r.ResetTokens}, {"reminders", r.Reminders},
	} {
		if d.v < 0 {
			l.bad(p+d.key, "must not be negative (0s deletes as soon as the row no longer matters)")
		}
	}
	switch unlock := pol.Lockout.AutoUnlockAfter; {
	case r.UnknownUsernames < 0:
	case r.UnknownUsernames < unlock && unlock > hmisauth.MinRetainUnknownUsernames:
		l.bad(p+"unknown_usernames", "must be at least lockout.auto_unlock_after (%s): a username that does not exist "+
			"must stay locked as long as an account would, or the difference tells which accounts exist", shortDuration(unlock))
	case r.UnknownUsernames < hmisauth.MinRetainUnknownUsernames:
		l.bad(p+"unknown_usernames", "must be at least 1d: a username locked in an attack stays locked at least a day, "+
			"like an account, so that the difference does not tell which accounts exist")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"sent_mail", r.SentMail}, {"abandoned_mail", r.AbandonedMail}} {
		if d.v >= 0 && d.v < hmisauth.MinRetainMail {
			l.bad(p+d.key, "must be at least 1h: the mail worker may still report on a message that long after, "+
				"and the development inbox shows what was just sent")
		}
	}
}
