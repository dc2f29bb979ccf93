package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// refusalBatch is how many closed windows one pass of SummarizeRefusals reads at a time.
const refusalBatch = 100

// refused records a request refused without a password hash (a sign-in on a locked username,
// a request over a rate limit) so that a flood of them cannot fill the audit log,
// which is never pruned: the first of its window is logged as ev, the rest only counted, and
// SummarizeRefusals logs their count when the window closes. A failure to record is logged,
// not returned, like record's. It reports whether ev was logged.
func (s *Service) refused(ctx context.Context, site *hmisauth.Site, r hmisauth.Refusal, ev *hmisauth.Event) bool {
	r.Site, r.At = site.Key, ev.At
	first, err := s.store.NoteRefusal(hmisauth.WithEvent(ctx, ev), r, hmisauth.RefusalWindow)
	if err != nil {
		s.log.ErrorContext(ctx, "audit log append failed", "err", err, "action", ev.Action)
	}
	return first
}

// refusedLocked records a sign-in refused because the username is locked.
func (s *Service) refusedLocked(ctx context.Context, site *hmisauth.Site, typed, addr string) {
	ev := s.newEvent(ctx, site, hmisauth.EventLoginFailed, typed, "account locked")
	r := hmisauth.Refusal{Kind: hmisauth.RefusalLocked, Key: hmisauth.UsernameKey(typed), Value: addr, Subject: typed}
	if s.refused(ctx, site, r, ev) {
		s.log.InfoContext(ctx, "login refused: locked", "site", site.Key, "username", r.Key, "client", addr)
	}
}

// SummarizeRefusals writes one audit event for each refusal window that has closed with
// refusals counted after its first ("41 more sign-in attempts refused for jdoe, …"), and
// forgets the window. Several server processes may run it: each window is summarised once.
// It returns how many summaries it wrote.
func (s *Service) SummarizeRefusals(ctx context.Context) (int, error) {
	now, written := s.clock.Now(), 0
	for {
		cs, err := s.store.ClosedRefusals(ctx, now, refusalBatch)
		if err != nil {
			return written, err
		}
		for _, c := range cs {
			ectx := ctx
			if c.Count > 0 {
				ectx = hmisauth.WithEvent(ctx, s.refusalSummary(c, now))
			}
			ok, err := s.store.EndRefusals(ectx, c.ID)
			if err != nil {
				return written, err
			}
			if ok && c.Count > 0 {
				written++
			}
		}
		if len(cs) < refusalBatch {
			return written, nil
		}
	}
}

// refusalSummary is the audit event of a closed window, written at now.
func (s *Service) refusalSummary(c *hmisauth.RefusalCount, now time.Time) *hmisauth.Event {
	loc := time.UTC
	if site, err := s.Site(c.Site); err == nil {
		loc = site.Loc()
	}
	span := c.FirstAt.In(loc).Format("15:04") + "–" + c.LastAt.In(loc).Format("15:04 MST")
	ev := &hmisauth.Event{Site: c.Site, At: now, Subject: c.Subject}
	switch c.Kind {
	case hmisauth.RefusalResetDropped:
		ev.Action, ev.ClientAddr = hmisauth.EventResetDropped, c.Key
		ev.Detail = fmt.Sprintf("%s refused from %s (too many from this address), %s, for %s",
			counted(c.Count, "more password-reset request"), c.Key, span, distinct(c.Values, "username"))
	case hmisauth.RefusalSignInLimited, hmisauth.RefusalSprayLimited:
		why := "too many failed sign-ins from this address"
		if c.Kind == hmisauth.RefusalSprayLimited {
			why = "too many usernames tried from this address"
		}
		ev.Action, ev.ClientAddr = hmisauth.EventRateLimited, c.Key
		ev.Detail = fmt.Sprintf("%s refused from %s (%s), %s, for %s",
			counted(c.Count, "more sign-in attempt"), c.Key, why, span, distinct(c.Values, "username"))
	case hmisauth.RefusalResetLimited:
		ev.Action, ev.ClientAddr = hmisauth.EventRateLimited, c.Key
		ev.Detail = fmt.Sprintf("%s refused from %s (too many reset links that do not work from this address), %s",
			counted(c.Count, "more reset link"), c.Key, span)
	default:
		ev.Action = hmisauth.EventLoginRefusals
		if len(c.Values) == 1 {
			ev.ClientAddr = c.Values[0]
		}
		ev.Detail = fmt.Sprintf("%s refused (account locked) for %s, %s, from %s",
			counted(c.Count, "more sign-in attempt"), c.Subject, span, distinct(c.Values, "address"))
	}
	return ev
}

// counted is "1 more sign-in attempt" or "41 more sign-in attempts".
func counted(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// distinct says how many values there were, naming the first few: "3 addresses: a, b, c".
func distinct(values []string, what string) string {
	const named = 5
	n := fmt.Sprint(len(values))
	if len(values) >= hmisauth.RefusalValuesKept {
		n += " or more"
	}
	plural := what + "s"
	if what == "address" {
		plural = "addresses"
	}
	if len(values) == 1 {
		return "1 " + what + ": " + values[0]
	}
	list := strings.Join(values[:min(named, len(values))], ", ")
	if len(values) > named {
		list += ", …"
	}
	return n + " " + plural + ": " + list
}
