package auth

import (
	"cmp"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The pack's audit extracts for its period: failed sign-ins, lockouts, administrative actions
// and overlapping sessions. Each event row keeps its ID and hash, so a monitor can find it in
// a full `hmisauth audit export` and check it there against the chain.

var eventHeader = []string{"id", "time", "actor", "subject", "action", "client_addr", "detail", "hash"}

func isFailedSignIn(ev *hmisauth.Event) bool {
	switch ev.Action {
	case hmisauth.EventLoginFailed, hmisauth.EventLoginRefusals, hmisauth.EventReauthFailed:
		return true
	}
	return false
}

func isLockout(ev *hmisauth.Event) bool { return ev.Action == hmisauth.EventAccountLocked }

// isAdminAction reports whether ev is someone acting on another account or on the site: an
// administrator (by name) or the command line ("cli:…"). A user's own steps (signing in,
// changing their password) and the server's own (expiry, mail, policy at start) are not.
func isAdminAction(ev *hmisauth.Event) bool {
	return ev.Actor != "" && hmisauth.UsernameKey(ev.Actor) != hmisauth.UsernameKey(ev.Subject) &&
		ev.Action != hmisauth.EventLoginFailed && ev.Action != hmisauth.EventLoginSucceeded
}

// eventsCSV lists the events in scope and period that pick chooses.
func (d *packData) eventsCSV(pick func(*hmisauth.Event) bool) []byte {
	var rows [][]string
	for _, ev := range d.events {
		if d.inPeriod(ev.At) && pick(ev) {
			rows = append(rows, []string{strconv.FormatInt(ev.ID, 10), d.localTime(ev.At), ev.Actor, ev.Subject,
				ev.Action, ev.ClientAddr, ev.Detail, hex.EncodeToString(ev.Hash)})
		}
	}
	return csvBytes(eventHeader, rows)
}

// packSession is one sign-in as the audit log shows it: from its login_succeeded event until
// the user's next sign-out from the same address, an administrator ending their sessions, or
// the site's absolute session limit, whichever comes first. Sessions that simply time out
// leave no event, so End is the latest the session can have lasted.
type packSession struct {
	User, Addr string
	Start, End time.Time
	StartID    int64
}

// sessions rebuilds the sign-ins of users in scope from the audit log.
func (d *packData) sessions() []*packSession {
	limit := d.site.Policy.Session.Absolute
	if limit <= 0 {
		limit = 24 * time.Hour
	}
	open := map[string][]*packSession{} // by username key
	var all []*packSession
	for _, ev := range d.events {
		key := hmisauth.UsernameKey(ev.Subject)
		switch ev.Action {
		case hmisauth.EventLoginSucceeded:
			s := &packSession{User: ev.Subject, Addr: ev.ClientAddr, Start: ev.At, End: ev.At.Add(limit), StartID: ev.ID}
			open[key] = append(open[key], s)
			all = append(all, s)
		case hmisauth.EventLogout:
			for _, s := range open[key] {
				if s.Addr == ev.ClientAddr && s.End.After(ev.At) {
					s.End = ev.At
					break
				}
			}
		case hmisauth.EventSessionsEnded:
			for _, s := range open[key] {
				if s.End.After(ev.At) {
					s.End = ev.At
				}
			}
		}
	}
	return all
}

// overlapsCSV lists pairs of one user's sessions from different addresses that were open at
// the same time, in the period.
func (d *packData) overlapsCSV() []byte {
	header := []string{"username", "first_address", "first_signed_in", "first_ended_by", "second_address",
		"second_signed_in", "second_ended_by", "first_event_id", "second_event_id"}
	byUser := map[string][]*packSession{}
	for _, s := range d.sessions() {
		if d.inPeriod(s.Start) || d.inPeriod(s.End) {
			k := hmisauth.UsernameKey(s.User)
			byUser[k] = append(byUser[k], s)
		}
	}
	var rows [][]string
	for _, ss := range byUser {
		for i, a := range ss {
			for _, b := range ss[i+1:] {
				if a.Addr != b.Addr && b.Start.Before(a.End) && a.Start.Before(b.End) {
					rows = append(rows, []string{a.User, a.Addr, d.localTime(a.Start), d.localTime(a.End), b.Addr,
						d.localTime(b.Start), d.localTime(b.End), strconv.FormatInt(a.StartID, 10), strconv.FormatInt(b.StartID, 10)})
				}
			}
		}
	}
	slices.SortFunc(rows, func(x, y []string) int { return cmp.Or(cmp.Compare(x[2], y[2]), cmp.Compare(x[0], y[0])) })
	return csvBytes(header, rows)
}
