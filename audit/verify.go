package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hmisauth/hmisauth"
)

// EventLog is the part of hmisauth.Store this package reads: any Store is one.
type EventLog interface {
	EachEvent(ctx context.Context, fn func(*hmisauth.Event) error) error
}

// Report is what Verify found.
type Report struct {
	// Events is how many events were checked: all of them when OK, else up to the problem.
	Events int  `json:"events"`
	OK     bool `json:"ok"`
	// BadID is the event the problem is at (for a deletion, the first missing ID), and Problem
	// says what is wrong with it, for an operator.
	BadID   int64  `json:"bad_id,omitempty"`
	Problem string `json:"problem,omitempty"`
	// Head is the last event of an intact log, as an anchor to record for later checks.
	Head *Anchor `json:"head,omitempty"`
}

// Anchor is an event's ID and hash recorded outside the database, from an earlier Report's
// Head. Verify with it proves that event is still there, unchanged, and so is every event
// before it (each hash covers the one before): the log was neither cut short below it nor
// rewritten up to it.
type Anchor struct {
	ID   int64
	Hash []byte
}

// String is the anchor as ParseAnchor reads it: "ID:hex-hash".
func (a Anchor) String() string { return fmt.Sprintf("%d:%x", a.ID, a.Hash) }

// MarshalText makes an anchor print as its String in JSON.
func (a Anchor) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// ParseAnchor reads "ID:hex-hash", as Anchor.String writes it.
func ParseAnchor(s string) (Anchor, error) {
	id, h, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || n <= 0 {
		return Anchor{}, fmt.Errorf("anchor %q: want EVENT-ID:HASH, as verify prints it", s)
	}
	hash, err := hex.DecodeString(h)
	if err != nil || len(hash) == 0 {
		return Anchor{}, fmt.Errorf("anchor %q: the hash is not hexadecimal", s)
	}
	return Anchor{ID: n, Hash: hash}, nil
}

// stop ends the walk at the first problem.
var stop = errors.New("stop")

// Verify walks the whole log in ID order and recomputes the chain, reporting the first
// problem: an event whose hash no longer matches its fields (edited), an ID skipped (deleted),
// an event that does not follow the one before it (deleted or reordered), or an anchor that
// is missing or differs. An error is returned only when the log could not be read.
func Verify(ctx context.Context, log EventLog, anchors ...Anchor) (Report, error) {
	var r Report
	var prev []byte
	var last int64
	want := make(map[int64][]byte, len(anchors))
	for _, a := range anchors {
		want[a.ID] = a.Hash
	}
	fail := func(id int64, format string, args ...any) error {
		r.BadID, r.Problem = id, fmt.Sprintf(format, args...)
		return stop
	}
	err := log.EachEvent(ctx, func(ev *hmisauth.Event) error {
		r.Events++
		switch {
		case ev.ID != last+1:
			return fail(last+1, "%s", gap(last, ev.ID))
		case !bytes.Equal(hmisauth.EventHash(ev.PrevHash, ev), ev.Hash):
			return fail(ev.ID, "event %d was changed after it was written", ev.ID)
		case !bytes.Equal(ev.PrevHash, prev) && last == 0:
			return fail(ev.ID, "event %d does not start the chain: an event was deleted or the order changed", ev.ID)
		case !bytes.Equal(ev.PrevHash, prev):
			return fail(ev.ID, "event %d does not follow event %d: an event was deleted or the order changed", ev.ID, last)
		}
		if h, ok := want[ev.ID]; ok && !bytes.Equal(h, ev.Hash) {
			return fail(ev.ID, "event %d is not the event recorded in anchor %s: the log was rewritten up to it", ev.ID, Anchor{ev.ID, h})
		}
		prev, last = ev.Hash, ev.ID
		return nil
	})
	if errors.Is(err, stop) {
		return r, nil
	}
	if err != nil {
		return Report{}, fmt.Errorf("audit: read the log: %w", err)
	}
	for _, a := range anchors {
		if a.ID > last {
			return Report{Events: r.Events, BadID: a.ID, Problem: fmt.Sprintf(
				"event %d of anchor %s is missing: the log ends at event %d, so its newest events were deleted",
				a.ID, a, last)}, nil
		}
	}
	r.OK = true
	if last > 0 {
		r.Head = &Anchor{ID: last, Hash: prev}
	}
	return r, nil
}

// gap describes the IDs skipped between event last (0: the log's start) and event next.
func gap(last, next int64) string {
	switch {
	case last == 0 && next == 2:
		return "event 1 is missing: the log starts at event 2"
	case last == 0:
		return fmt.Sprintf("events 1 to %d are missing: the log starts at event %d", next-1, next)
	case next == last+2:
		return fmt.Sprintf("events %d to %d: %d is missing", last, next, last+1)
	}
	return fmt.Sprintf("events %d to %d: %d to %d are missing", last, next, last+1, next-1)
}
