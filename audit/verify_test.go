package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

// memLog is an audit log in memory, walked as a Store walks its table.
type memLog struct {
	evs []*hmisauth.Event
	err error // returned after the events, as a failing read would
}

func (l memLog) EachEvent(_ context.Context, fn func(*hmisauth.Event) error) error {
	for _, ev := range l.evs {
		if err := fn(ev); err != nil {
			return err
		}
	}
	return l.err
}

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)

// chain appends n events to a new log as a Store would: IDs from 1, each hashed on the last.
func chain(n int) []*hmisauth.Event {
	var evs []*hmisauth.Event
	var prev []byte
	for i := range n {
		ev := &hmisauth.Event{ID: int64(i + 1), Site: "live", At: t0.Add(time.Duration(i) * time.Minute),
			Actor: "helpdesk", Subject: fmt.Sprint("user", i+1), Action: hmisauth.EventUserUnlocked,
			ClientAddr: "192.0.2.10", Detail: fmt.Sprint("event ", i+1), PrevHash: prev}
		ev.Hash = hmisauth.EventHash(prev, ev)
		prev = ev.Hash
		evs = append(evs, ev)
	}
	return evs
}

// rehash recomputes the chain from index i on, as someone covering their tracks would.
func rehash(evs []*hmisauth.Event, i int) {
	for ; i < len(evs); i++ {
		if i > 0 {
			evs[i].PrevHash = evs[i-1].Hash
		}
		evs[i].Hash = hmisauth.EventHash(evs[i].PrevHash, evs[i])
	}
}

func without(evs []*hmisauth.Event, ids ...int64) []*hmisauth.Event {
	return slices.DeleteFunc(evs, func(ev *hmisauth.Event) bool { return slices.Contains(ids, ev.ID) })
}

func TestVerify(t *testing.T) {
	head := chain(5)[4]
	anchor := audit.Anchor{ID: 5, Hash: head.Hash}
	for _, tc := range []struct {
		name    string
		log     func(evs []*hmisauth.Event) []*hmisauth.Event
		anchors []audit.Anchor
		badID   int64
		problem string // "" for intact
	}{
		{"IntactLog", func(evs []*hmisauth.Event) []*hmisauth.Event { return evs }, nil, 0, ""},
		{"EmptyLog", func([]*hmisauth.Event) []*hmisauth.Event { return nil }, nil, 0, ""},
		{"EditedDetail", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[2].Detail = "nothing to see"
			return evs
		}, nil, 3, "event 3 was changed after it was written"},
		{"EditedActorOfTheFirst", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[0].Actor = "someone-else"
			return evs
		}, nil, 1, "event 1 was changed after it was written"},
		{"EditedTime", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[3].At = evs[3].At.Add(time.Microsecond)
			return evs
		}, nil, 4, "event 4 was changed after it was written"},
		{"EditedAndRehashedOne", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[2].Subject = "nobody"
			evs[2].Hash = hmisauth.EventHash(evs[2].PrevHash, evs[2])
			return evs
		}, nil, 4, "event 4 does not follow event 3: an event was deleted or the order changed"},
		{"DeletedOne", func(evs []*hmisauth.Event) []*hmisauth.Event { return without(evs, 3) },
			nil, 3, "events 2 to 4: 3 is missing"},
		{"DeletedTwo", func(evs []*hmisauth.Event) []*hmisauth.Event { return without(evs, 3, 4) },
			nil, 3, "events 2 to 5: 3 to 4 are missing"},
		{"DeletedTheFirst", func(evs []*hmisauth.Event) []*hmisauth.Event { return without(evs, 1) },
			nil, 1, "event 1 is missing: the log starts at event 2"},
		{"DeletedTheFirstTwo", func(evs []*hmisauth.Event) []*hmisauth.Event { return without(evs, 1, 2) },
			nil, 1, "events 1 to 2 are missing: the log starts at event 3"},
		{"DeletedOneAndRenumbered", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs = without(evs, 3)
			evs[2].ID, evs[3].ID = 3, 4
			return evs
		}, nil, 3, "event 3 does not follow event 2: an event was deleted or the order changed"},
		{"SwappedContents", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[1], evs[2] = evs[2], evs[1]
			evs[1].ID, evs[2].ID = 2, 3
			return evs
		}, nil, 2, "event 2 does not follow event 1: an event was deleted or the order changed"},
		{"FirstFollowsSomething", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[0].PrevHash = []byte("not the start")
			rehash(evs, 0)
			return evs
		}, nil, 1, "event 1 does not start the chain: an event was deleted or the order changed"},
		// The chain alone cannot tell the newest events were deleted, nor a rewrite of the
		// whole chain from some event on: that is what anchors are for.
		{"DeletedTheNewestUnanchored", func(evs []*hmisauth.Event) []*hmisauth.Event { return without(evs, 5) }, nil, 0, ""},
		{"RewrittenTailUnanchored", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[2].Detail = "rewritten"
			rehash(evs, 2)
			return evs
		}, nil, 0, ""},
		{"Anchored", func(evs []*hmisauth.Event) []*hmisauth.Event { return evs }, []audit.Anchor{anchor}, 0, ""},
		{"AnchoredMoreAppendedSince", func([]*hmisauth.Event) []*hmisauth.Event { return chain(8) }, []audit.Anchor{anchor}, 0, ""},
		{"DeletedTheNewestAnchored", func(evs []*hmisauth.Event) []*hmisauth.Event { return without(evs, 4, 5) }, []audit.Anchor{anchor},
			5, "event 5 of anchor " + anchor.String() + " is missing: the log ends at event 3, so its newest events were deleted"},
		{"RewrittenTailAnchored", func(evs []*hmisauth.Event) []*hmisauth.Event {
			evs[2].Detail = "rewritten"
			rehash(evs, 2)
			return evs
		}, []audit.Anchor{anchor}, 5, "event 5 is not the event recorded in anchor " + anchor.String() + ": the log was rewritten up to it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := tc.log(chain(5))
			r, err := audit.Verify(t.Context(), memLog{evs: evs}, tc.anchors...)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != (tc.problem == "") || r.BadID != tc.badID || r.Problem != tc.problem {
				t.Fatalf("report %+v, want bad ID %d, problem %q", r, tc.badID, tc.problem)
			}
			if !r.OK {
				if r.Head != nil {
					t.Errorf("a broken log reported a head %v", r.Head)
				}
				return
			}
			if r.Events != len(evs) {
				t.Errorf("checked %d events of %d", r.Events, len(evs))
			}
			if len(evs) == 0 {
				if r.Head != nil {
					t.Errorf("an empty log has head %v", r.Head)
				}
				return
			}
			last := evs[len(evs)-1]
			if r.Head == nil || r.Head.ID != last.ID || !bytes.Equal(r.Head.Hash, last.Hash) {
				t.Errorf("head %v, want %d:%x", r.Head, last.ID, last.Hash)
			}
		})
	}
}

func TestVerifyPassesOnAReadError(t *testing.T) {
	broken := errors.New("disk I/O error")
	if _, err := audit.Verify(t.Context(), memLog{evs: chain(3), err: broken}); !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func TestAnchorRoundTrips(t *testing.T) {
	a := audit.Anchor{ID: 1234, Hash: chain(1)[0].Hash}
	got, err := audit.ParseAnchor(" " + a.String() + "\n")
	if err != nil || got.ID != a.ID || !bytes.Equal(got.Hash, a.Hash) {
		t.Fatalf("ParseAnchor(%s) = %v, %v", a, got, err)
	}
	for _, bad := range []string{"", "1234", "abc:00ff", "0:00ff", "-1:00ff", "12:", "12:xyz"} {
		if _, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}
