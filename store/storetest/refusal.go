package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// window is the refusal window the suite uses; win0 the start of the one holding t0.
const window = 5 * time.Minute

var win0 = t0.Truncate(window)

func refusal(kind, key, value string, when time.Time) hmisauth.Refusal {
	return hmisauth.Refusal{Site: live, Kind: kind, Key: key, Value: value, Subject: "JDoe", At: when}
}

// refuse notes r carrying an event whose detail says which refusal it is, and reports
// whether it was the window's first.
func refuse(t *testing.T, s hmisauth.Store, r hmisauth.Refusal, detail string) bool {
	t.Helper()
	first, err := s.NoteRefusal(carrying(t, &hmisauth.Event{Site: live, At: r.At, Subject: r.Subject,
		Action: hmisauth.EventLoginFailed, ClientAddr: r.Value, Detail: detail}), r, window)
	must(t, err)
	return first
}

func closedRefusals(t *testing.T, s hmisauth.Store, now time.Time) []*hmisauth.RefusalCount {
	t.Helper()
	cs, err := s.ClosedRefusals(t.Context(), now, 100)
	must(t, err)
	return cs
}

var refusalTests = []test{
	{"TheFirstOfAWindowIsLoggedTheRestCounted", func(t *testing.T, s hmisauth.Store) {
		key := "jdoe"
		var firsts []bool
		for i, addr := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.2", "192.0.2.3", "192.0.2.1"} {
			firsts = append(firsts, refuse(t, s, refusal(hmisauth.RefusalLocked, key, addr, win0.Add(time.Duration(i)*time.Second)), fmt.Sprint("refusal ", i)))
		}
		equal(t, "first of the window", firsts, []bool{true, false, false, false, false})
		wantDetails(t, s, "refusal 0")
		if cs := closedRefusals(t, s, win0.Add(window-time.Microsecond)); len(cs) != 0 {
			t.Fatalf("a window still open is listed as closed: %+v", cs[0])
		}
		cs := closedRefusals(t, s, win0.Add(window))
		if len(cs) != 1 {
			t.Fatalf("%d closed windows, want 1", len(cs))
		}
		c := cs[0]
		want := &hmisauth.RefusalCount{ID: c.ID, Site: live, Kind: hmisauth.RefusalLocked, Key: key, Subject: "JDoe",
			Start: win0, End: win0.Add(window), Count: 4, FirstAt: win0.Add(time.Second), LastAt: win0.Add(4 * time.Second),
			Values: []string{"192.0.2.2", "192.0.2.3", "192.0.2.1"}}
		equal(t, "the closed window", c, want)
	}},
	{"WindowsAreApartByKindKeySiteAndTime", func(t *testing.T, s hmisauth.Store) {
		other := refusal(hmisauth.RefusalLocked, "jdoe", "192.0.2.1", win0)
		other.Site = training
		got := []bool{
			refuse(t, s, refusal(hmisauth.RefusalLocked, "jdoe", "192.0.2.1", win0), "a"),
			refuse(t, s, refusal(hmisauth.RefusalLocked, "asmith", "192.0.2.1", win0), "b"),
			refuse(t, s, refusal(hmisauth.RefusalResetDropped, "jdoe", "192.0.2.1", win0), "c"),
			refuse(t, s, other, "d"),
			refuse(t, s, refusal(hmisauth.RefusalLocked, "jdoe", "192.0.2.1", win0.Add(window)), "e"),
			refuse(t, s, refusal(hmisauth.RefusalLocked, "jdoe", "192.0.2.1", win0.Add(window+time.Second)), "f"),
		}
		equal(t, "first of the window", got, []bool{true, true, true, true, true, false})
		wantDetails(t, s, "a", "b", "c", "d", "e")
		if cs := closedRefusals(t, s, win0.Add(window)); len(cs) != 4 {
			t.Fatalf("%d windows closed at the first window's end, want 4", len(cs))
		}
	}},
	{"DistinctValuesAreKeptUpToTheCap", func(t *testing.T, s hmisauth.Store) {
		refuse(t, s, refusal(hmisauth.RefusalResetDropped, "192.0.2.9", "first", win0), "first")
		n := hmisauth.RefusalValuesKept + 20
		for i := range n {
			refuse(t, s, refusal(hmisauth.RefusalResetDropped, "192.0.2.9", fmt.Sprint("user", i%(n-5)), win0.Add(time.Second)), "more")
		}
		cs := closedRefusals(t, s, win0.Add(window))
		if len(cs) != 1 || cs[0].Count != n || len(cs[0].Values) != hmisauth.RefusalValuesKept {
			t.Fatalf("closed windows %+v, want one counting %d with %d values", cs, n, hmisauth.RefusalValuesKept)
		}
		if cs[0].Values[0] != "user0" || cs[0].Values[hmisauth.RefusalValuesKept-1] != fmt.Sprint("user", hmisauth.RefusalValuesKept-1) {
			t.Fatalf("values not in the order first seen: %q…%q", cs[0].Values[0], cs[0].Values[len(cs[0].Values)-1])
		}
	}},
	{"EndingAWindowAppendsItsSummaryOnce", func(t *testing.T, s hmisauth.Store) {
		refuse(t, s, refusal(hmisauth.RefusalLocked, "jdoe", "192.0.2.1", win0), "first")
		refuse(t, s, refusal(hmisauth.RefusalLocked, "jdoe", "192.0.2.1", win0.Add(time.Second)), "counted")
		c := closedRefusals(t, s, win0.Add(window))[0]
		const n = 10
		ended := make([]bool, n)
		wantNoErrors(t, parallel(n, func(i int) (err error) {
			ev := &hmisauth.Event{Site: live, At: win0.Add(window), Subject: "JDoe", Action: hmisauth.EventLoginRefusals,
				Detail: fmt.Sprint("summary ", i)}
			ended[i], err = s.EndRefusals(carrying(t, ev), c.ID)
			return err
		}))
		if countTrue(ended) != 1 {
			t.Fatalf("%d of %d parallel ends reported true, want 1", countTrue(ended), n)
		}
		evs := wantChain(t, s)
		if len(evs) != 2 || evs[0].Detail != "first" || !strings.HasPrefix(evs[1].Detail, "summary ") {
			t.Fatalf("the log holds %q, want the first refusal and one summary", details(evs))
		}
		if cs := closedRefusals(t, s, win0.Add(time.Hour)); len(cs) != 0 {
			t.Fatalf("an ended window is still listed: %+v", cs[0])
		}
		if ok, err := s.EndRefusals(t.Context(), c.ID); err != nil || ok {
			t.Fatalf("ending it again: %v, %v; want false", ok, err)
		}
	}},
	{"OfParallelFirstRefusalsOneIsLogged", func(t *testing.T, s hmisauth.Store) {
		ParallelRefusals(t, []hmisauth.Store{s}, 40)
	}},
}

// ParallelRefusals notes n parallel refusals of one window, spread over the stores (which
// must share one database), and checks exactly one was the window's first, exactly one event
// was logged, and the rest were all counted; four times, on four keys. Backends use it to
// check two Store values — two processes — share the windows.
func ParallelRefusals(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	for round := range 4 {
		key := fmt.Sprint("user", round)
		firsts := make([]bool, n)
		wantNoErrors(t, parallel(n, func(i int) (err error) {
			r := refusal(hmisauth.RefusalLocked, key, fmt.Sprint("192.0.2.", i%7), win0.Add(time.Duration(i)*time.Millisecond))
			ev := &hmisauth.Event{Site: live, At: r.At, Subject: key, Action: hmisauth.EventLoginFailed, Detail: key}
			firsts[i], err = stores[i%len(stores)].NoteRefusal(carrying(t, ev), r, window)
			return err
		}))
		if got := countTrue(firsts); got != 1 {
			t.Errorf("%s: %d of %d parallel refusals were the window's first, want 1", key, got, n)
		}
	}
	evs := wantChain(t, stores[0])
	if len(evs) != 4 {
		t.Fatalf("the log holds %d events after 4 rounds, want 4 (one a window)", len(evs))
	}
	closed := closedRefusals(t, stores[0], win0.Add(window))
	if len(closed) != 4 {
		t.Fatalf("%d windows closed after 4 rounds, want 4", len(closed))
	}
	for _, c := range closed {
		if c.Count != n-1 || len(c.Values) != 7 {
			t.Errorf("%s: counted %d refusals from %d addresses, want %d from 7", c.Key, c.Count, len(c.Values), n-1)
		}
	}
}
