package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

// A site that requires 2-step verification keeps a user's last second factor, decided in the
// removing transaction; the first passkey brings its recovery codes in the same one; and what
// began with the old state of an account (a waiting sign-in) dies with a password change, a
// disable or a reset.
var mfaGuardTests = []test{
	{"KeepOneRefusesRemovingTheLastFactor", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a", "b")
		wantCode(t, s.DisableTOTP(t.Context(), u.ID, true, nil), hmisauth.EFORBIDDEN)
		if f := factors(t, s, u); !f.TOTP.Confirmed() || f.RecoveryCodesLeft != 2 {
			t.Errorf("a refused removal changed the factors: %+v", f)
		}
		k := addPasskey(t, s, u, "key", 2)
		must(t, s.DisableTOTP(t.Context(), u.ID, true, nil)) // the passkey remains
		wantCode(t, s.DeletePasskey(t.Context(), u.ID, k.ID, true, nil), hmisauth.EFORBIDDEN)
		if f := factors(t, s, u); len(f.Passkeys) != 1 || f.RecoveryCodesLeft != 2 {
			t.Errorf("a refused passkey removal changed the factors: %+v", f)
		}
		must(t, s.DeletePasskey(t.Context(), u.ID, k.ID, false, nil))
		wantMFA(t, s, u, false)
	}},
	{"ParallelRemovalsOfTheLastTwoFactorsLeaveOne", func(t *testing.T, s hmisauth.Store) {
		for round := range 10 {
			u := newUser(t, s, live, "user"+string(rune('a'+round)))
			enrolTOTP(t, s, u, "phone", 1000, 1, "a")
			k := addPasskey(t, s, u, "key-"+u.Username, 2)
			errs := parallel(2, func(i int) error {
				if i == 0 {
					return s.DisableTOTP(t.Context(), u.ID, true, nil)
				}
				return s.DeletePasskey(t.Context(), u.ID, k.ID, true, nil)
			})
			refused := 0
			for _, err := range errs {
				if hmisauth.ErrorCode(err) == hmisauth.EFORBIDDEN {
					refused++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			f := factors(t, s, u)
			if refused != 1 || !f.Enabled() || f.RecoveryCodesLeft != 1 {
				t.Fatalf("round %d: %d of 2 parallel removals refused, factors %+v; want 1 refused and one factor left", round, refused, f)
			}
		}
	}},
	{"FirstPasskeyBringsItsRecoveryCodes", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		p := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("key"), Name: "Office laptop", CreatedAt: at(1)}
		must(t, s.AddPasskey(t.Context(), p, codeHashes("x", "y", "z"), nil))
		if f := factors(t, s, u); len(f.Passkeys) != 1 || f.RecoveryCodesLeft != 3 {
			t.Fatalf("factors = %+v, want a passkey and 3 codes", f)
		}
		wantCodeUse(t, s, u, "y", true, 2)
		// A refused passkey (a credential already registered) writes no codes either.
		again := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("key"), CreatedAt: at(2)}
		wantCode(t, s.AddPasskey(t.Context(), again, codeHashes("new"), nil), hmisauth.ECONFLICT)
		wantCodeUse(t, s, u, "x", true, 1)
		wantCodeUse(t, s, u, "new", false, 1)
	}},
	{"PasswordChangeDisableAndResetEndWaitingSignIns", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		challenge(t, s, u, "before-change", 1)
		theirs := challenge(t, s, other, "theirs", 1)
		change(t, s, u, "h1", 5, 2)
		wantChallenge(t, s, "before-change", at(3), nil)
		wantChallenge(t, s, "theirs", at(3), theirs)

		challenge(t, s, u, "before-disable", 4)
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(5)))
		wantChallenge(t, s, "before-disable", at(6), nil)
		must(t, s.SetDisabled(t.Context(), u.ID, false, at(7)))

		challenge(t, s, u, "before-reset", 8)
		must(t, s.ResetSecondFactors(t.Context(), u.ID, t0, nil))
		wantChallenge(t, s, "before-reset", at(9), nil)
		wantChallenge(t, s, "theirs", at(9), theirs)
	}},
}
