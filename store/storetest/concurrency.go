package storetest

import (
	"fmt"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// These run real goroutines against one store. They prove the atomic steps the rules rely on:
// a backend that reads, decides in Go and writes back fails them.
var concurrencyTests = []test{
	{"FiftyParallelWrongPasswordsEvaluateThree", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		parallelReserve(t, []hmisauth.Store{s}, "jdoe", 50, 3)
		if got := reload(t, s, u); got.FailedAttempts != 3 || !got.Locked() {
			t.Errorf("user lockout = %d attempts, locked %v; want 3, locked", got.FailedAttempts, got.LockedAt)
		}
	}},
	{"FiftyParallelGuessesAtAnUnknownNameEvaluateThree", func(t *testing.T, s hmisauth.Store) {
		parallelReserve(t, []hmisauth.Store{s}, "ghost", 50, 3)
	}},
	{"ParallelTemporaryPasswordUseSucceedsOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordTemporary = true })
		used := make([]bool, 50)
		errs := parallel(50, func(i int) (err error) {
			used[i], err = s.UseTemporaryPassword(t.Context(), u.ID, at(i))
			return err
		})
		wantNoErrors(t, errs)
		if n := countTrue(used); n != 1 {
			t.Errorf("%d of 50 parallel sign-ins used the temporary password, want 1", n)
		}
	}},
	{"ParallelCreatesOfOneUsernameMakeOneAccount", func(t *testing.T, s hmisauth.Store) {
		errs := parallel(20, func(i int) error {
			return s.CreateUser(t.Context(), &hmisauth.User{
				Site: live, Username: []string{"jdoe", "JDoe", "JDOE"}[i%3], Email: fmt.Sprintf("%d@example.org", i), CreatedAt: t0})
		})
		ok := 0
		for _, err := range errs {
			switch hmisauth.ErrorCode(err) {
			case "":
				ok++
			case hmisauth.ECONFLICT:
			default:
				t.Errorf("CreateUser: %v, want success or conflict", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of 20 parallel creations of jdoe succeeded, want 1", ok)
		}
	}},
	{"ParallelCreatesFillAnAgencyExactly", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 5)
		errs := parallel(20, func(i int) error {
			return s.CreateUser(t.Context(), &hmisauth.User{
				Site: live, Username: fmt.Sprintf("user%02d", i), AgencyID: a.ID, CreatedAt: t0})
		})
		ok := 0
		for _, err := range errs {
			switch hmisauth.ErrorCode(err) {
			case "":
				ok++
			case hmisauth.ESeatsFull:
			default:
				t.Errorf("CreateUser: %v, want success or seats_full", err)
			}
		}
		if ok != 5 {
			t.Errorf("%d of 20 parallel creations into 5 seats succeeded, want 5", ok)
		}
		wantCount(t, s, a, 5)
	}},
	{"ParallelSingleSessionSignInsLeaveOne", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		tokens := make(map[string]bool)
		for i := range 20 {
			tokens[fmt.Sprint("tok", i)] = true
		}
		wantNoErrors(t, parallel(20, func(i int) error {
			return s.CreateSession(t.Context(), &hmisauth.Session{
				Site: live, UserID: u.ID, TokenHash: tokenHash(fmt.Sprint("tok", i)), CreatedAt: t0}, true)
		}))
		alive := 0
		for token := range tokens {
			if _, err := s.SessionByToken(t.Context(), tokenHash(token)); err == nil {
				alive++
			}
		}
		if alive != 1 {
			t.Errorf("%d sessions alive after 20 parallel single-session sign-ins, want 1", alive)
		}
	}},
}

// ParallelReserve makes n parallel attempts at key on live, spread over the stores (which
// must share one database), and checks exactly threshold were allowed and the key is locked
// with count threshold. Backends use it to check two Store values — two processes — agree.
func ParallelReserve(t *testing.T, stores []hmisauth.Store, key string, n, threshold int) {
	t.Helper()
	parallelReserve(t, stores, key, n, threshold)
}

func parallelReserve(t *testing.T, stores []hmisauth.Store, key string, n, threshold int) {
	t.Helper()
	attempts := make([]hmisauth.Attempt, n)
	wantNoErrors(t, parallel(n, func(i int) (err error) {
		attempts[i], err = stores[i%len(stores)].ReserveLoginAttempt(t.Context(), live, key, threshold, at(i))
		return err
	}))
	allowed := 0
	for _, a := range attempts {
		if a.Allowed {
			allowed++
		}
	}
	if allowed != threshold {
		t.Errorf("%d of %d parallel attempts allowed, want %d", allowed, n, threshold)
	}
	// One more attempt reports the final state without changing it.
	last, err := stores[0].ReserveLoginAttempt(t.Context(), live, key, threshold, at(n))
	must(t, err)
	if last.Allowed || last.Count != threshold || last.LockedAt.IsZero() {
		t.Errorf("after %d parallel attempts: %+v, want refused, count %d, locked", n, last, threshold)
	}
}

func wantNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
