package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hmisauth/hmisauth"
)

// Event queries return at most MaxEvents; a query without a limit gets DefaultEvents.
const (
	DefaultEvents = 100
	MaxEvents     = 1000
)

// EachBatch is how many events EachEvent reads at a time.
const EachBatch = 500

// CheckNewEvents refuses, before anything is written, a list of events a backend is asked to
// append that has a nil event, an event appended already, one event given twice, or an event
// without an action.
func CheckNewEvents(evs []*hmisauth.Event) error {
	for i, ev := range evs {
		switch {
		case ev == nil:
			return errors.New("append events: a nil event")
		case ev.ID != 0:
			// An event is written once. Handing the same context (or event) to a second write
			// would log it twice, or log it against a change it does not record.
			return fmt.Errorf("append events: event %d (%s) was appended already; a context's events go to one write", ev.ID, ev.Action)
		case slices.Contains(evs[:i], ev):
			return fmt.Errorf("append events: the %s event is given twice", ev.Action)
		case ev.Action == "":
			return errors.New("append events: an event without an action")
		}
	}
	return nil
}

// StampAt sets ev.At to the time the log stores: now when the caller left it zero, and in UTC
// to the microsecond either way, so the caller's copy equals what a read of the log returns.
func StampAt(ev *hmisauth.Event) {
	if ev.At.IsZero() {
		ev.At = Now()
	}
	ev.At = ev.At.UTC().Truncate(time.Microsecond)
}

// ForgetEvents undoes what appending set on events whose transaction did not commit, so
// the caller's copies do not claim a place in the log.
func ForgetEvents(evs []*hmisauth.Event) {
	for _, ev := range evs {
		if ev != nil {
			ev.ID, ev.PrevHash, ev.Hash = 0, nil, nil
		}
	}
}
