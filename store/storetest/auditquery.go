package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// appendMany appends n events on live in one call, their details "e1"…"en".
func appendMany(t *testing.T, s hmisauth.Store, n int) {
	t.Helper()
	evs := make([]*hmisauth.Event, n)
	for i := range evs {
		evs[i] = event(hmisauth.EventLoginFailed, "jdoe", fmt.Sprint("e", i+1), i)
	}
	must(t, s.AppendEvents(t.Context(), evs...))
}

func wantEvents(t *testing.T, s hmisauth.Store, q hmisauth.EventQuery, want ...string) {
	t.Helper()
	evs, err := s.Events(t.Context(), q)
	must(t, err)
	if got := details(evs); !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Errorf("Events(%+v) = %q, want %q", q, got, want)
	}
}

var auditQueryTests = []test{
	{"EventsAreNewestFirstAndLimited", func(t *testing.T, s hmisauth.Store) {
		appendMany(t, s, 1005)
		for _, tc := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {7, 7}, {1000, 1000}, {5000, 1000}} {
			evs, err := s.Events(t.Context(), hmisauth.EventQuery{Limit: tc.limit})
			must(t, err)
			if len(evs) != tc.want {
				t.Errorf("Limit %d gave %d events, want %d", tc.limit, len(evs), tc.want)
				continue
			}
			for i, ev := range evs {
				if ev.ID != int64(1005-i) {
					t.Fatalf("Limit %d: event %d of the answer has ID %d, want %d (newest first)", tc.limit, i, ev.ID, 1005-i)
				}
			}
		}
	}},
	{"EventsFilter", func(t *testing.T, s hmisauth.Store) {
		add := func(site, actor, subject, action string, sec int, detail string) {
			ev := event(action, subject, detail, sec)
			ev.Site, ev.Actor = site, actor
			must(t, s.AppendEvents(t.Context(), ev))
		}
		add(live, "", "JDoe", hmisauth.EventLoginFailed, 0, "1 jdoe fails")
		add(live, "JDoe", "JDoe", hmisauth.EventLoginSucceeded, 60, "2 jdoe signs in")
		add(live, "admin", "bsmith", hmisauth.EventUserUnlocked, 120, "3 admin unlocks bsmith")
		add(training, "admin", "jdoe", hmisauth.EventLoginFailed, 180, "4 training jdoe fails")
		add(live, "admin", "jdoe ", hmisauth.EventTemporaryPasswordSet, 240, "5 admin resets jdoe")
		for _, tc := range []struct {
			name string
			q    hmisauth.EventQuery
			want []string
		}{
			{"everything", hmisauth.EventQuery{}, []string{"5 admin resets jdoe", "4 training jdoe fails", "3 admin unlocks bsmith", "2 jdoe signs in", "1 jdoe fails"}},
			{"site", hmisauth.EventQuery{Site: training}, []string{"4 training jdoe fails"}},
			{"subject, any case and spacing", hmisauth.EventQuery{Site: live, Subject: "JDOE"}, []string{"5 admin resets jdoe", "2 jdoe signs in", "1 jdoe fails"}},
			{"subject on every site", hmisauth.EventQuery{Subject: "jdoe"}, []string{"5 admin resets jdoe", "4 training jdoe fails", "2 jdoe signs in", "1 jdoe fails"}},
			{"actor", hmisauth.EventQuery{Site: live, Actor: "admin"}, []string{"5 admin resets jdoe", "3 admin unlocks bsmith"}},
			{"action", hmisauth.EventQuery{Action: hmisauth.EventLoginFailed}, []string{"4 training jdoe fails", "1 jdoe fails"}},
			{"since is inclusive", hmisauth.EventQuery{Since: at(120)}, []string{"5 admin resets jdoe", "4 training jdoe fails", "3 admin unlocks bsmith"}},
			{"until is exclusive", hmisauth.EventQuery{Until: at(120)}, []string{"2 jdoe signs in", "1 jdoe fails"}},
			{"a date range", hmisauth.EventQuery{Since: at(60), Until: at(180).Add(time.Microsecond)}, []string{"4 training jdoe fails", "3 admin unlocks bsmith", "2 jdoe signs in"}},
			{"before an ID", hmisauth.EventQuery{BeforeID: 3}, []string{"2 jdoe signs in", "1 jdoe fails"}},
			{"all at once", hmisauth.EventQuery{Site: live, Subject: "jdoe", Action: hmisauth.EventLoginFailed, Since: t0, BeforeID: 5}, []string{"1 jdoe fails"}},
			{"nothing matches", hmisauth.EventQuery{Site: live, Subject: "nobody"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) { wantEvents(t, s, tc.q, tc.want...) })
		}
	}},
	{"EventsPageBackwards", func(t *testing.T, s hmisauth.Store) {
		appendMany(t, s, 10)
		var got []int64
		q := hmisauth.EventQuery{Limit: 3}
		for range 10 {
			page, err := s.Events(t.Context(), q)
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, ev := range page {
				got = append(got, ev.ID)
			}
			q.BeforeID = page[len(page)-1].ID
		}
		if want := []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}; !slices.Equal(got, want) {
			t.Errorf("pages of 3 gave IDs %v, want %v", got, want)
		}
	}},
	{"EachEventVisitsTheWholeLogInOrder", func(t *testing.T, s hmisauth.Store) {
		must(t, s.EachEvent(t.Context(), func(*hmisauth.Event) error {
			return errors.New("called on an empty log")
		}))
		appendMany(t, s, 1234)
		evs := wantChain(t, s)
		if len(evs) != 1234 || evs[0].Detail != "e1" || evs[1233].Detail != "e1234" {
			t.Errorf("EachEvent visited %d events, from %q to %q; want 1234, e1 to e1234", len(evs), evs[0].Detail, evs[len(evs)-1].Detail)
		}
	}},
	{"EachEventStopsAtTheFirstError", func(t *testing.T, s hmisauth.Store) {
		appendMany(t, s, 10)
		stop := errors.New("stop")
		calls := 0
		err := s.EachEvent(t.Context(), func(ev *hmisauth.Event) error {
			calls++
			if ev.ID == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 3 {
			t.Errorf("EachEvent returned %v after %d calls, want fn's error after 3", err, calls)
		}
	}},
}

var auditConcurrencyTests = []test{
	{"ParallelWritesKeepTheChainIntact", func(t *testing.T, s hmisauth.Store) {
		ParallelEvents(t, []hmisauth.Store{s})
	}},
}

// ParallelEvents has 20 goroutines, spread over the stores (which must share one database),
// each make 5 writes of different kinds carrying two events, then checks the log is one
// intact chain of all 200. Backends use it to check two Store values — two processes — never
// chain two events to the same predecessor.
func ParallelEvents(t *testing.T, stores []hmisauth.Store) {
	t.Helper()
	s := stores[0]
	u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordTemporary = true })
	sess := newSession(t, s, u, "tok", false)
	writes := []func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error{
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return st.CreateUser(carrying(t, evs...), &hmisauth.User{Site: live, Username: fmt.Sprintf("u%d-%d", i, j), CreatedAt: t0})
		},
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return st.LoginSucceeded(carrying(t, evs...), u.ID, at(i))
		},
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return second(st.UseTemporaryPassword(carrying(t, evs...), u.ID, at(i)))
		},
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return st.AppendEvents(t.Context(), evs...)
		},
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return st.TouchSession(carrying(t, evs...), sess.ID, at(i))
		},
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return second(st.ReserveLoginAttempt(carrying(t, evs...), live, fmt.Sprint("ghost", i), 3, at(i)))
		},
		func(st hmisauth.Store, evs []*hmisauth.Event, i, j int) error {
			return second(st.HitRateLimit(carrying(t, evs...), fmt.Sprint("key", i), time.Minute, 100, at(i)))
		},
	}
	wantNoErrors(t, parallel(20, func(i int) error {
		for j := range 5 {
			evs := []*hmisauth.Event{
				event("test", "jdoe", fmt.Sprintf("g%d w%d a", i, j), i),
				event("test", "jdoe", fmt.Sprintf("g%d w%d b", i, j), i),
			}
			if err := writes[(i+j)%len(writes)](stores[i%len(stores)], evs, i, j); err != nil {
				return err
			}
		}
		return nil
	}))
	evs := wantChain(t, s)
	if len(evs) != 200 {
		t.Fatalf("%d events after 100 writes of 2, want 200", len(evs))
	}
	// A write's events stay together: nothing interleaves within one transaction.
	for k := 0; k < len(evs); k += 2 {
		a, b := evs[k].Detail, evs[k+1].Detail
		if a[:len(a)-1] != b[:len(b)-1] {
			t.Fatalf("events %d and %d (%q, %q) are not one write's pair", evs[k].ID, evs[k+1].ID, a, b)
		}
	}
}
