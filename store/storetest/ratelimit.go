package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// minute is the start of a one-minute window: windows are fixed, counted from the Unix epoch.
var minute = t0.Truncate(time.Minute)

// hits counts one event per time for key and checks which were within limit.
func hits(t *testing.T, s hmisauth.Store, key string, window time.Duration, limit int, times []time.Time, want ...bool) {
	t.Helper()
	got := make([]bool, len(times))
	for i, now := range times {
		ok, err := s.HitRateLimit(t.Context(), key, window, limit, now)
		must(t, err)
		got[i] = ok
	}
	equal(t, key+" within limit", got, want)
}

func repeat(now time.Time, n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = now
	}
	return ts
}

var rateLimitTests = []test{
	{"CountsWithinTheWindow", func(t *testing.T, s hmisauth.Store) {
		hits(t, s, "forgot:live:192.0.2.7", time.Minute, 3,
			[]time.Time{minute, minute.Add(10 * time.Second), minute.Add(time.Minute - time.Microsecond), minute, minute},
			true, true, true, false, false)
	}},
	{"ANewWindowStartsAfresh", func(t *testing.T, s hmisauth.Store) {
		hits(t, s, "k", time.Minute, 2,
			[]time.Time{minute.Add(59 * time.Second), minute.Add(59 * time.Second), minute.Add(59 * time.Second),
				minute.Add(time.Minute), minute.Add(time.Minute + time.Second), minute.Add(time.Minute + 2*time.Second)},
			true, true, false, true, true, false)
	}},
	{"KeysAreCountedApart", func(t *testing.T, s hmisauth.Store) {
		hits(t, s, "reset-user:live:jdoe", time.Hour, 1, repeat(t0, 2), true, false)
		hits(t, s, "reset-user:live:other", time.Hour, 1, repeat(t0, 2), true, false)
		hits(t, s, "reset-user:training:jdoe", time.Hour, 1, repeat(t0, 1), true)
	}},
	{"ZeroLimitRefusesEverything", func(t *testing.T, s hmisauth.Store) {
		hits(t, s, "k", time.Minute, 0, repeat(t0, 2), false, false)
	}},
	{"ALongWindowOutlivesShortOnes", func(t *testing.T, s hmisauth.Store) {
		week := 7 * 24 * time.Hour
		start := time.Unix(0, 0).UTC().Add(week * time.Duration(t0.Sub(time.Unix(0, 0))/week))
		hits(t, s, "weekly", week, 1, []time.Time{start}, true)
		// New short windows days later must not forget the week's count.
		hits(t, s, "short", time.Minute, 5, []time.Time{start.Add(2 * 24 * time.Hour), start.Add(3 * 24 * time.Hour)}, true, true)
		hits(t, s, "weekly", week, 1, []time.Time{start.Add(week - time.Second), start.Add(week)}, false, true)
	}},
	{"FiftyParallelHitsAllowFive", func(t *testing.T, s hmisauth.Store) {
		parallelHits(t, []hmisauth.Store{s}, 50, 5)
	}},
}

// ParallelHits makes n parallel hits on one key with the limit, spread over the stores (which
// must share one database), and checks exactly limit were within it; four times, on four keys,
// since a lost update shows only when the goroutines overlap. Backends use it to check two
// Store values — two processes — share the windows.
func ParallelHits(t *testing.T, stores []hmisauth.Store, n, limit int) {
	t.Helper()
	parallelHits(t, stores, n, limit)
}

func parallelHits(t *testing.T, stores []hmisauth.Store, n, limit int) {
	t.Helper()
	for round := range 4 {
		key := fmt.Sprint("forgot:live:192.0.2.", round)
		ok := make([]bool, n)
		wantNoErrors(t, parallel(n, func(i int) (err error) {
			ok[i], err = stores[i%len(stores)].HitRateLimit(t.Context(), key, time.Hour, limit, t0)
			return err
		}))
		if got := countTrue(ok); got != limit {
			t.Errorf("%s: %d of %d parallel hits within the limit, want %d", key, got, n, limit)
		}
	}
}
