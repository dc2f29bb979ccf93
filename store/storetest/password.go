package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

// change sets the user's password to hash at t0+sec, keeping history entries.
func change(t *testing.T, s hmisauth.Store, u *hmisauth.User, hash string, history, sec int) {
	t.Helper()
	must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: u.ID, Hash: hash, At: at(sec), History: history}))
}

func wantHistory(t *testing.T, s hmisauth.Store, u *hmisauth.User, limit int, want ...string) {
	t.Helper()
	got, err := s.PasswordHistory(t.Context(), u.ID, limit)
	must(t, err)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	equal(t, "PasswordHistory", got, want)
}

var passwordTests = []test{
	{"HistoryIsNewestFirst", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordHash = "h0" })
		wantHistory(t, s, u, 5)
		change(t, s, u, "h1", 5, 1)
		change(t, s, u, "h2", 5, 2)
		change(t, s, u, "h3", 5, 3)
		wantHistory(t, s, u, 5, "h2", "h1", "h0")
		wantHistory(t, s, u, 2, "h2", "h1")
		wantHistory(t, s, u, 0)
		if got := reload(t, s, u).PasswordHash; got != "h3" {
			t.Errorf("PasswordHash = %q, want h3", got)
		}
	}},
	{"HistoryIsTrimmedToTheNewest", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordHash = "h0" })
		for i, h := range []string{"h1", "h2", "h3", "h4"} {
			change(t, s, u, h, 2, i+1)
		}
		wantHistory(t, s, u, 10, "h3", "h2")
		change(t, s, u, "h5", 0, 5)
		wantHistory(t, s, u, 10)
	}},
	{"HistoryOrderIsChangeOrderEvenIfTheClockStepsBack", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordHash = "h0" })
		change(t, s, u, "h1", 5, 100)
		change(t, s, u, "h2", 5, 50)
		wantHistory(t, s, u, 5, "h1", "h0")
	}},
	{"HistoryIsPerUser", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordHash = "a0" })
		v := newUser(t, s, live, "other", func(u *hmisauth.User) { u.PasswordHash = "b0" })
		change(t, s, u, "a1", 5, 1)
		change(t, s, v, "b1", 1, 1)
		change(t, s, v, "b2", 1, 2)
		wantHistory(t, s, u, 5, "a0")
		wantHistory(t, s, v, 5, "b1")
		wantHistory(t, s, &hmisauth.User{ID: 999}, 5)
	}},
	{"SetPasswordSetsTheFlagsAsGiven", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordTemporary = true })
		ok, err := s.UseTemporaryPassword(t.Context(), u.ID, at(1))
		must(t, err)
		if !ok {
			t.Fatal("UseTemporaryPassword = false for a fresh temporary password")
		}
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{
			UserID: u.ID, Hash: "admin-chosen", Temporary: true, MustChange: true, At: at(2), History: 5}))
		got := reload(t, s, u)
		if got.PasswordHash != "admin-chosen" || !got.PasswordTemporary || !got.MustChangePassword ||
			!got.TemporaryUsedAt.IsZero() || !got.PasswordChangedAt.Equal(at(2)) {
			t.Errorf("after an administrator's reset: hash %q, temporary %v, must change %v, used %v, changed %v",
				got.PasswordHash, got.PasswordTemporary, got.MustChangePassword, got.TemporaryUsedAt, got.PasswordChangedAt)
		}
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: u.ID, Hash: "mine", At: at(3), History: 5}))
		got = reload(t, s, u)
		if got.PasswordTemporary || got.MustChangePassword || !got.PasswordChangedAt.Equal(at(3)) {
			t.Errorf("after the user's change: temporary %v, must change %v, changed %v",
				got.PasswordTemporary, got.MustChangePassword, got.PasswordChangedAt)
		}
	}},
	{"SetPasswordClearsTheLockout", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for i := 1; i <= 3; i++ {
			reserve(t, s, "jdoe", 3, i)
		}
		change(t, s, u, "new", 5, 4)
		if got := reload(t, s, u); got.FailedAttempts != 0 || got.Locked() {
			t.Errorf("after SetPassword: %d attempts, locked %v", got.FailedAttempts, got.LockedAt)
		}
	}},
	{"SetPasswordEndsTheOtherSessions", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "a", false)
		b := newSession(t, s, u, "b", false)
		newSession(t, s, other, "o", false)
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: u.ID, Hash: "new", At: at(1), KeepSessionID: b.ID}))
		wantSessions(t, s, map[string]bool{"a": false, "b": true, "o": true})
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: u.ID, Hash: "newer", At: at(2)}))
		wantSessions(t, s, map[string]bool{"b": false, "o": true})
	}},
	{"SetPasswordOfUnknownUserIsNotFound", func(t *testing.T, s hmisauth.Store) {
		err := s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: 999, Hash: "x", At: t0, History: 5})
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"RehashSwapsAnUnchangedHash", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordHash = "weak" })
		must(t, s.RehashPassword(t.Context(), u.ID, "weak", "strong"))
		got := reload(t, s, u)
		if got.PasswordHash != "strong" || !got.PasswordChangedAt.Equal(u.PasswordChangedAt) {
			t.Errorf("after rehash: hash %q, changed %v (a rehash is not a password change)", got.PasswordHash, got.PasswordChangedAt)
		}
		wantHistory(t, s, u, 5)
	}},
	{"RehashLosesToAPasswordChange", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordHash = "weak" })
		change(t, s, u, "changed", 5, 1)
		err := s.RehashPassword(t.Context(), u.ID, "weak", "strong")
		if err != nil && hmisauth.ErrorCode(err) != hmisauth.ECONFLICT {
			t.Fatalf("RehashPassword after a change: %v", err)
		}
		if got := reload(t, s, u).PasswordHash; got != "changed" {
			t.Errorf("PasswordHash = %q, want the changed one", got)
		}
		wantCode(t, s.RehashPassword(t.Context(), 999, "a", "b"), hmisauth.ENOTFOUND)
	}},
	{"ExpirePasswordMakesTheUserChange", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.ExpirePassword(t.Context(), u.ID))
		if !reload(t, s, u).MustChangePassword {
			t.Error("MustChangePassword not set")
		}
		wantCode(t, s.ExpirePassword(t.Context(), 999), hmisauth.ENOTFOUND)
	}},
	{"TemporaryPasswordWorksOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordTemporary = true })
		wantUse(t, s, u, true)
		wantUse(t, s, u, false)
		if got := reload(t, s, u).TemporaryUsedAt; !got.Equal(at(1)) {
			t.Errorf("TemporaryUsedAt = %v, want the first use %v", got, at(1))
		}
		// A new temporary password from the administrator works once more.
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: u.ID, Hash: "temp2", Temporary: true, At: at(3)}))
		wantUse(t, s, u, true)
	}},
	{"APermanentPasswordIsNotATemporaryOne", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		wantUse(t, s, u, false)
		_, err := s.UseTemporaryPassword(t.Context(), 999, t0)
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"AcceptTermsRecordsVersionAndTime", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.AcceptTerms(t.Context(), u.ID, 3, at(1)))
		if got := reload(t, s, u); got.TermsVersion != 3 || !got.TermsAcceptedAt.Equal(at(1)) {
			t.Errorf("terms = v%d at %v", got.TermsVersion, got.TermsAcceptedAt)
		}
		wantCode(t, s.AcceptTerms(t.Context(), 999, 3, t0), hmisauth.ENOTFOUND)
	}},
	{"DisablingEndsSessionsAndEnablingClears", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		newSession(t, s, u, "a", false)
		newSession(t, s, u, "b", false)
		newSession(t, s, other, "o", false)
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(1)))
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(2)))
		if got := reload(t, s, u); !got.Disabled || !got.DisabledAt.Equal(at(1)) {
			t.Errorf("disabled %v since %v, want since the first disable %v", got.Disabled, got.DisabledAt, at(1))
		}
		wantSessions(t, s, map[string]bool{"a": false, "b": false, "o": true})
		must(t, s.SetDisabled(t.Context(), u.ID, false, at(3)))
		if got := reload(t, s, u); got.Disabled || !got.DisabledAt.IsZero() {
			t.Errorf("after enabling: disabled %v since %v", got.Disabled, got.DisabledAt)
		}
		wantCode(t, s.SetDisabled(t.Context(), 999, true, t0), hmisauth.ENOTFOUND)
		wantCode(t, s.SetDisabled(t.Context(), 999, false, t0), hmisauth.ENOTFOUND)
	}},
	{"AgreementIsRecordedAndCleared", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.SetAgreement(t.Context(), u.ID, "2026-01-05", "2026-01-06", "2026-01-07", "2027-01-05"))
		got := reload(t, s, u)
		equal(t, "agreement", [4]hmisauth.Date{got.AgreementSignedOn, got.AgreementSupervisorSignedOn,
			got.AgreementDirectorSignedOn, got.AgreementExpiresOn},
			[4]hmisauth.Date{"2026-01-05", "2026-01-06", "2026-01-07", "2027-01-05"})
		must(t, s.SetAgreement(t.Context(), u.ID, "2026-02-01", "", "", ""))
		got = reload(t, s, u)
		equal(t, "agreement", [4]hmisauth.Date{got.AgreementSignedOn, got.AgreementSupervisorSignedOn,
			got.AgreementDirectorSignedOn, got.AgreementExpiresOn},
			[4]hmisauth.Date{"2026-02-01", "", "", ""})
		wantCode(t, s.SetAgreement(t.Context(), 999, "", "", "", ""), hmisauth.ENOTFOUND)
	}},
}

func wantUse(t *testing.T, s hmisauth.Store, u *hmisauth.User, want bool) {
	t.Helper()
	got, err := s.UseTemporaryPassword(t.Context(), u.ID, at(1))
	must(t, err)
	if got != want {
		t.Errorf("UseTemporaryPassword = %v, want %v", got, want)
	}
}
