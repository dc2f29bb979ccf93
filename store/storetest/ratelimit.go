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

// attempt is an AddressAttempt in the one-hour window that holds t0.
func attempt(key, subject string, maxAttempts, maxSubjects int) hmisauth.AddressAttempt {
	return hmisauth.AddressAttempt{Key: key, Subject: subject, Window: time.Hour, At: t0,
		MaxAttempts: maxAttempts, MaxSubjects: maxSubjects}
}

// reserveAddress reserves a and checks the answer.
func reserveAddress(t *testing.T, s hmisauth.Store, a hmisauth.AddressAttempt, want hmisauth.AddressAttempts) {
	t.Helper()
	got, err := s.ReserveAddressAttempt(t.Context(), a)
	must(t, err)
	equal(t, fmt.Sprintf("reserve %s/%s", a.Key, a.Subject), got, want)
}

// counted is what a's window holds, read by a reservation that its limits of 1 refuse: the
// window must hold an attempt.
func counted(t *testing.T, s hmisauth.Store, a hmisauth.AddressAttempt) hmisauth.AddressAttempts {
	t.Helper()
	a.MaxAttempts, a.MaxSubjects = 1, 1
	got, err := s.ReserveAddressAttempt(t.Context(), a)
	must(t, err)
	if got.Allowed {
		t.Fatalf("%s: the window was empty", a.Key)
	}
	return got
}

var addressAttemptTests = []test{
	{"AttemptsStopAtTheLimit", func(t *testing.T, s hmisauth.Store) {
		for i := 1; i <= 3; i++ {
			reserveAddress(t, s, attempt("signin:live:192.0.2.7", "", 3, 0), hmisauth.AddressAttempts{Allowed: true, Attempts: i})
		}
		// Refused, and not counted: the count stays at the limit.
		reserveAddress(t, s, attempt("signin:live:192.0.2.7", "", 3, 0), hmisauth.AddressAttempts{Attempts: 3})
		reserveAddress(t, s, attempt("signin:live:192.0.2.7", "", 3, 0), hmisauth.AddressAttempts{Attempts: 3})
		// A higher limit lets more in.
		reserveAddress(t, s, attempt("signin:live:192.0.2.7", "", 4, 0), hmisauth.AddressAttempts{Allowed: true, Attempts: 4})
	}},
	{"SubjectsAreCountedOnce", func(t *testing.T, s hmisauth.Store) {
		k := "signin:live:192.0.2.8"
		reserveAddress(t, s, attempt(k, "a", 100, 3), hmisauth.AddressAttempts{Allowed: true, Attempts: 1, Subjects: 1})
		reserveAddress(t, s, attempt(k, "a", 100, 3), hmisauth.AddressAttempts{Allowed: true, Attempts: 2, Subjects: 1})
		reserveAddress(t, s, attempt(k, "b", 100, 3), hmisauth.AddressAttempts{Allowed: true, Attempts: 3, Subjects: 2})
		reserveAddress(t, s, attempt(k, "c", 100, 3), hmisauth.AddressAttempts{Allowed: true, Attempts: 4, Subjects: 3})
		// With the distinct subjects at the limit the address is refused, whichever it tries:
		// a new subject and one already counted alike.
		reserveAddress(t, s, attempt(k, "d", 100, 3), hmisauth.AddressAttempts{Attempts: 4, Subjects: 3})
		reserveAddress(t, s, attempt(k, "a", 100, 3), hmisauth.AddressAttempts{Attempts: 4, Subjects: 3})
	}},
	{"AnEmptySubjectIsNotASubject", func(t *testing.T, s hmisauth.Store) {
		for i := 1; i <= 3; i++ {
			reserveAddress(t, s, attempt("reset:live:192.0.2.9", "", 0, 1), hmisauth.AddressAttempts{Allowed: true, Attempts: i})
		}
	}},
	{"ReleaseGivesAnAttemptBack", func(t *testing.T, s hmisauth.Store) {
		k := "signin:live:192.0.2.10"
		reserveAddress(t, s, attempt(k, "a", 3, 2), hmisauth.AddressAttempts{Allowed: true, Attempts: 1, Subjects: 1})
		reserveAddress(t, s, attempt(k, "a", 3, 2), hmisauth.AddressAttempts{Allowed: true, Attempts: 2, Subjects: 1})
		reserveAddress(t, s, attempt(k, "b", 3, 2), hmisauth.AddressAttempts{Allowed: true, Attempts: 3, Subjects: 2})
		reserveAddress(t, s, attempt(k, "c", 10, 3), hmisauth.AddressAttempts{Allowed: true, Attempts: 4, Subjects: 3})
		must(t, s.ReleaseAddressAttempt(t.Context(), attempt(k, "c", 10, 3)))
		// a keeps one attempt, so it is still a subject.
		must(t, s.ReleaseAddressAttempt(t.Context(), attempt(k, "a", 3, 2)))
		equal(t, "after releasing c and one of a", counted(t, s, attempt(k, "", 0, 0)), hmisauth.AddressAttempts{Attempts: 2, Subjects: 2})
		must(t, s.ReleaseAddressAttempt(t.Context(), attempt(k, "a", 3, 2)))
		equal(t, "after releasing a's last", counted(t, s, attempt(k, "", 0, 0)), hmisauth.AddressAttempts{Attempts: 1, Subjects: 1})
		// Releasing what is not counted changes nothing.
		must(t, s.ReleaseAddressAttempt(t.Context(), attempt(k, "a", 3, 2)))
		must(t, s.ReleaseAddressAttempt(t.Context(), attempt(k, "never", 3, 2)))
		equal(t, "after releasing more", counted(t, s, attempt(k, "", 0, 0)), hmisauth.AddressAttempts{Attempts: 1, Subjects: 1})
		reserveAddress(t, s, attempt(k, "d", 3, 2), hmisauth.AddressAttempts{Allowed: true, Attempts: 2, Subjects: 2})
	}},
	{"WindowsAndKeysAreApart", func(t *testing.T, s hmisauth.Store) {
		at := func(a hmisauth.AddressAttempt, now time.Time) hmisauth.AddressAttempt {
			a.At, a.Window = now, time.Minute
			return a
		}
		last := minute.Add(time.Minute - time.Microsecond)
		reserveAddress(t, s, at(attempt("k", "a", 1, 0), minute), hmisauth.AddressAttempts{Allowed: true, Attempts: 1, Subjects: 1})
		reserveAddress(t, s, at(attempt("k", "a", 1, 0), last), hmisauth.AddressAttempts{Attempts: 1, Subjects: 1})
		reserveAddress(t, s, at(attempt("other", "a", 1, 0), last), hmisauth.AddressAttempts{Allowed: true, Attempts: 1, Subjects: 1})
		// The next window starts afresh, and forgets the ended ones: a release there changes
		// nothing and is no error.
		reserveAddress(t, s, at(attempt("k", "a", 1, 0), minute.Add(time.Minute)), hmisauth.AddressAttempts{Allowed: true, Attempts: 1, Subjects: 1})
		must(t, s.ReleaseAddressAttempt(t.Context(), at(attempt("k", "a", 1, 0), minute)))
		reserveAddress(t, s, at(attempt("k", "b", 1, 0), minute.Add(2*time.Minute-time.Microsecond)), hmisauth.AddressAttempts{Attempts: 1, Subjects: 1})
	}},
	{"TheWindowEndsWhereWindowEndSays", func(t *testing.T, s hmisauth.Store) {
		w := 15 * time.Minute
		end := hmisauth.WindowEnd(t0, w)
		a := hmisauth.AddressAttempt{Key: "k", Window: w, At: end.Add(-time.Microsecond), MaxAttempts: 1}
		reserveAddress(t, s, a, hmisauth.AddressAttempts{Allowed: true, Attempts: 1})
		reserveAddress(t, s, a, hmisauth.AddressAttempts{Attempts: 1})
		a.At = end
		reserveAddress(t, s, a, hmisauth.AddressAttempts{Allowed: true, Attempts: 1})
	}},
	{"FiftyParallelReservationsAllowTheLimits", func(t *testing.T, s hmisauth.Store) {
		parallelAddressAttempts(t, []hmisauth.Store{s}, 50, 5)
	}},
	{"ParallelReleasesAndReservationsLoseNothing", func(t *testing.T, s hmisauth.Store) {
		parallelReleases(t, []hmisauth.Store{s}, 20)
	}},
}

// ParallelAddressAttempts makes n parallel reservations, spread over the stores (which must
// share one database), and checks that exactly limit were allowed: on one key with a limit on
// attempts, then on another with n distinct subjects and a limit on subjects. Backends use it
// to check that two Store values — two processes — share the windows.
func ParallelAddressAttempts(t *testing.T, stores []hmisauth.Store, n, limit int) {
	t.Helper()
	parallelAddressAttempts(t, stores, n, limit)
	parallelReleases(t, stores, n)
}

func parallelAddressAttempts(t *testing.T, stores []hmisauth.Store, n, limit int) {
	t.Helper()
	for round := range 2 {
		key := fmt.Sprint("signin:live:192.0.2.", 100+round)
		ok := make([]bool, n)
		wantNoErrors(t, parallel(n, func(i int) error {
			a := attempt(key, "same", limit, 0)
			if round == 1 {
				a = attempt(key, fmt.Sprint("user", i), 0, limit)
			}
			res, err := stores[i%len(stores)].ReserveAddressAttempt(t.Context(), a)
			ok[i] = res.Allowed
			return err
		}))
		if got := countTrue(ok); got != limit {
			t.Errorf("%s: %d of %d parallel reservations allowed, want %d", key, got, n, limit)
		}
		want := hmisauth.AddressAttempts{Attempts: limit, Subjects: 1}
		if round == 1 {
			want.Subjects = limit
		}
		equal(t, key+" afterwards", counted(t, stores[0], attempt(key, "", 0, 0)), want)
	}
}

// parallelReleases fills a window with n subjects, then gives each back while n new ones
// try to get in, all at once: whatever order they ran in, the window must count exactly the
// new ones let in, each once.
func parallelReleases(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	key := "signin:live:192.0.2.200"
	// One attempt without a subject stays, so the window is never empty.
	reserveAddress(t, stores[0], attempt(key, "", 0, n), hmisauth.AddressAttempts{Allowed: true, Attempts: 1})
	for i := range n {
		reserveAddress(t, stores[0], attempt(key, fmt.Sprint("old", i), 0, n),
			hmisauth.AddressAttempts{Allowed: true, Attempts: i + 2, Subjects: i + 1})
	}
	ok := make([]bool, n)
	wantNoErrors(t, parallel(2*n, func(i int) error {
		st := stores[i%len(stores)]
		if i%2 == 0 {
			return st.ReleaseAddressAttempt(t.Context(), attempt(key, fmt.Sprint("old", i/2), 0, n))
		}
		res, err := st.ReserveAddressAttempt(t.Context(), attempt(key, fmt.Sprint("new", i/2), 0, n))
		ok[i/2] = res.Allowed
		return err
	}))
	in := countTrue(ok)
	equal(t, key+" afterwards", counted(t, stores[0], attempt(key, "", 0, 0)), hmisauth.AddressAttempts{Attempts: in + 1, Subjects: in})
}
