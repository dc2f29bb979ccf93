package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// reserve makes one attempt at key on live, threshold 3, at t0+sec seconds.
func reserve(t *testing.T, s hmisauth.Store, key string, threshold, sec int) hmisauth.Attempt {
	t.Helper()
	a, err := s.ReserveLoginAttempt(t.Context(), live, key, threshold, t0.Add(time.Duration(sec)*time.Second))
	must(t, err)
	return a
}

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

var lockoutTests = []test{
	{"ThirdWrongPasswordLocks", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		equal(t, "1st", reserve(t, s, "jdoe", 3, 1), hmisauth.Attempt{Allowed: true, Count: 1})
		equal(t, "2nd", reserve(t, s, "jdoe", 3, 2), hmisauth.Attempt{Allowed: true, Count: 2})
		equal(t, "3rd", reserve(t, s, "jdoe", 3, 3), hmisauth.Attempt{Allowed: true, Count: 3, LockedAt: at(3)})
		got := reload(t, s, u)
		if got.FailedAttempts != 3 || !got.LockedAt.Equal(at(3)) || !got.LastFailedAt.Equal(at(3)) || !got.Locked() {
			t.Errorf("user lockout = %d attempts, last %v, locked %v", got.FailedAttempts, got.LastFailedAt, got.LockedAt)
		}
	}},
	{"LockedKeyRefusesWithoutCounting", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
		}
		equal(t, "4th", reserve(t, s, "jdoe", 3, 4), hmisauth.Attempt{Count: 3, LockedAt: at(3)})
		equal(t, "5th", reserve(t, s, "jdoe", 3, 5), hmisauth.Attempt{Count: 3, LockedAt: at(3)})
		got := reload(t, s, u)
		if got.FailedAttempts != 3 || !got.LastFailedAt.Equal(at(3)) {
			t.Errorf("refused attempts changed the state: %d attempts, last %v", got.FailedAttempts, got.LastFailedAt)
		}
	}},
	{"UnknownUsernameIsCountedLikeAReal", func(t *testing.T, s hmisauth.Store) {
		equal(t, "1st", reserve(t, s, "ghost", 3, 1), hmisauth.Attempt{Allowed: true, Count: 1})
		equal(t, "2nd", reserve(t, s, "ghost", 3, 2), hmisauth.Attempt{Allowed: true, Count: 2})
		equal(t, "3rd", reserve(t, s, "ghost", 3, 3), hmisauth.Attempt{Allowed: true, Count: 3, LockedAt: at(3)})
		equal(t, "4th", reserve(t, s, "ghost", 3, 4), hmisauth.Attempt{Count: 3, LockedAt: at(3)})
	}},
	{"LockoutIsPerSiteAndPerName", func(t *testing.T, s hmisauth.Store) {
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
		}
		a, err := s.ReserveLoginAttempt(t.Context(), training, "jdoe", 3, at(4))
		must(t, err)
		equal(t, "training", a, hmisauth.Attempt{Allowed: true, Count: 1})
		equal(t, "other name", reserve(t, s, "jdoe2", 3, 4), hmisauth.Attempt{Allowed: true, Count: 1})
	}},
	{"ThresholdOneLocksOnTheFirstAttempt", func(t *testing.T, s hmisauth.Store) {
		equal(t, "1st", reserve(t, s, "jdoe", 1, 1), hmisauth.Attempt{Allowed: true, Count: 1, LockedAt: at(1)})
		equal(t, "2nd", reserve(t, s, "jdoe", 1, 2), hmisauth.Attempt{Count: 1, LockedAt: at(1)})
	}},
	{"LoweredThresholdLocksAtOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 5, i)
		}
		// The site lowered its threshold to 3 while jdoe had 3 attempts counted.
		equal(t, "next", reserve(t, s, "jdoe", 3, 10), hmisauth.Attempt{Count: 3, LockedAt: at(10)})
		if got := reload(t, s, u); !got.LockedAt.Equal(at(10)) || got.FailedAttempts != 3 {
			t.Errorf("user lockout = %d attempts, locked %v", got.FailedAttempts, got.LockedAt)
		}
	}},
	{"ZeroThresholdNeverLocks", func(t *testing.T, s hmisauth.Store) {
		for i := 1; i <= 10; i++ {
			equal(t, "attempt", reserve(t, s, "jdoe", 0, i), hmisauth.Attempt{Allowed: true, Count: i})
		}
	}},
	{"AutoUnlockOnlyWhenLockedAtOrBeforeTheCutoff", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		reserve(t, s, "jdoe", 3, 1)
		reserve(t, s, "jdoe", 3, 2)
		wantAutoUnlock(t, s, "jdoe", at(100), false) // counted but not locked: nothing to unlock
		if got := reload(t, s, u); got.FailedAttempts != 2 {
			t.Fatalf("AutoUnlock of an unlocked key changed its count to %d", got.FailedAttempts)
		}
		reserve(t, s, "jdoe", 3, 3)
		wantAutoUnlock(t, s, "jdoe", at(2), false)
		wantAutoUnlock(t, s, "nobody", at(100), false)
		wantAutoUnlock(t, s, "jdoe", at(3), true)
		if got := reload(t, s, u); got.FailedAttempts != 0 || got.Locked() {
			t.Errorf("after AutoUnlock: %d attempts, locked %v", got.FailedAttempts, got.LockedAt)
		}
		equal(t, "after unlock", reserve(t, s, "jdoe", 3, 4), hmisauth.Attempt{Allowed: true, Count: 1})
	}},
	{"LoginSucceededClearsCountAndLockAndRecordsTheTime", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "JDoe")
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
		}
		must(t, s.LoginSucceeded(t.Context(), u.ID, at(4)))
		got := reload(t, s, u)
		if got.FailedAttempts != 0 || got.Locked() || !got.LastLoginAt.Equal(at(4)) {
			t.Errorf("after success: %d attempts, locked %v, last login %v", got.FailedAttempts, got.LockedAt, got.LastLoginAt)
		}
		equal(t, "next", reserve(t, s, "jdoe", 3, 5), hmisauth.Attempt{Allowed: true, Count: 1})
		wantCode(t, s.LoginSucceeded(t.Context(), 999, at(5)), hmisauth.ENOTFOUND)
	}},
	{"AdministratorUnlocks", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
			reserve(t, s, "other", 3, i)
		}
		must(t, s.Unlock(t.Context(), u.ID))
		if got := reload(t, s, u); got.FailedAttempts != 0 || got.Locked() {
			t.Errorf("after Unlock: %d attempts, locked %v", got.FailedAttempts, got.LockedAt)
		}
		if got := reload(t, s, other); !got.Locked() {
			t.Error("Unlock of one user unlocked another")
		}
		must(t, s.Unlock(t.Context(), u.ID)) // unlocking an unlocked account is fine
		wantCode(t, s.Unlock(t.Context(), 999), hmisauth.ENOTFOUND)
	}},
	{"CreateUserClearsGuessesMadeBeforeTheAccountExisted", func(t *testing.T, s hmisauth.Store) {
		for i := 1; i <= 3; i++ {
			reserve(t, s, "newbie", 3, i)
		}
		reserve(t, s, "newbie", 3, 4)
		u := newUser(t, s, live, "NewBie")
		if got := reload(t, s, u); got.FailedAttempts != 0 || got.Locked() {
			t.Errorf("new account inherited %d attempts, locked %v", got.FailedAttempts, got.LockedAt)
		}
		equal(t, "first", reserve(t, s, "newbie", 3, 5), hmisauth.Attempt{Allowed: true, Count: 1})
	}},
	{"ReleaseGivesBackOneAttemptOnly", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		reserve(t, s, "jdoe", 3, 1) // a wrong password
		right := reserve(t, s, "jdoe", 3, 2)
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "jdoe", right))
		if got := reload(t, s, u); got.FailedAttempts != 1 || got.Locked() {
			t.Errorf("after the release: %d attempts, locked %v; want the earlier failure counted, unlocked",
				got.FailedAttempts, got.LockedAt)
		}
		equal(t, "next", reserve(t, s, "jdoe", 3, 3), hmisauth.Attempt{Allowed: true, Count: 2})
	}},
	{"ReleaseOfTheLockingAttemptUnlocks", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		reserve(t, s, "jdoe", 3, 1)
		reserve(t, s, "jdoe", 3, 2)
		right := reserve(t, s, "jdoe", 3, 3)
		if right.LockedAt.IsZero() {
			t.Fatal("the third attempt did not lock")
		}
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "jdoe", right))
		if got := reload(t, s, u); got.FailedAttempts != 2 || got.Locked() {
			t.Errorf("after the release: %d attempts, locked %v; want 2, unlocked", got.FailedAttempts, got.LockedAt)
		}
		equal(t, "next", reserve(t, s, "jdoe", 3, 4), hmisauth.Attempt{Allowed: true, Count: 3, LockedAt: at(4)})
	}},
	{"ReleaseUnlocksOnlyItsOwnLock", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		reserve(t, s, "jdoe", 3, 1)
		reserve(t, s, "jdoe", 3, 2)
		right := reserve(t, s, "jdoe", 3, 3)
		wantAutoUnlock(t, s, "jdoe", at(3), true)
		for i := 4; i <= 6; i++ {
			reserve(t, s, "jdoe", 3, i) // meanwhile, three wrong guesses lock it again at 6
		}
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "jdoe", right))
		if got := reload(t, s, u); got.FailedAttempts != 2 || !got.LockedAt.Equal(at(6)) {
			t.Errorf("after the release: %d attempts, locked %v; want 2, still locked at %v", got.FailedAttempts, got.LockedAt, at(6))
		}
	}},
	{"ReleaseOfARefusedAttemptChangesNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
		}
		refused := reserve(t, s, "jdoe", 3, 4)
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "jdoe", refused))
		if got := reload(t, s, u); got.FailedAttempts != 3 || !got.LockedAt.Equal(at(3)) {
			t.Errorf("after releasing a refused attempt: %d attempts, locked %v; want 3, locked at %v",
				got.FailedAttempts, got.LockedAt, at(3))
		}
	}},
	{"ReleaseNeverGoesBelowZero", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		right := reserve(t, s, "jdoe", 3, 1)
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "jdoe", right))
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "jdoe", right))
		if got := reload(t, s, u); got.FailedAttempts != 0 {
			t.Errorf("after two releases of one attempt: %d attempts, want 0", got.FailedAttempts)
		}
		equal(t, "next", reserve(t, s, "jdoe", 3, 2), hmisauth.Attempt{Allowed: true, Count: 1})
		must(t, s.ReleaseLoginAttempt(t.Context(), live, "nobody", hmisauth.Attempt{Allowed: true, Count: 1}))
	}},
}

func wantAutoUnlock(t *testing.T, s hmisauth.Store, key string, before time.Time, want bool) {
	t.Helper()
	got, err := s.AutoUnlock(t.Context(), live, key, before)
	must(t, err)
	if got != want {
		t.Errorf("AutoUnlock(%s, before %v) = %v, want %v", key, before, got, want)
	}
}
