package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

// The single-use steps of 2-step verification under parallel calls: two browsers (or an
// attacker racing the user) submitting the same code, or completing the same sign-in.
var mfaConcurrencyTests = []test{
	{"TwentyParallelUsesOfOneTOTPStepAcceptOne", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1)
		ok := make([]bool, 20)
		wantNoErrors(t, parallel(20, func(i int) (err error) {
			ok[i], err = s.UseTOTPStep(t.Context(), u.ID, 1001)
			return err
		}))
		if n := countTrue(ok); n != 1 {
			t.Errorf("%d of 20 parallel uses of one time step were accepted, want 1", n)
		}
		if got := factors(t, s, u).TOTP.LastStep; got != 1001 {
			t.Errorf("LastStep = %d, want 1001", got)
		}
	}},
	{"ParallelStepsNeverMoveLastStepBack", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1)
		ok := make([]bool, 20)
		wantNoErrors(t, parallel(20, func(i int) (err error) {
			ok[i], err = s.UseTOTPStep(t.Context(), u.ID, int64(1001+i))
			return err
		}))
		if !ok[19] {
			t.Error("the newest step was refused: only an older or equal one may refuse it")
		}
		if got := factors(t, s, u).TOTP.LastStep; got != 1020 {
			t.Errorf("LastStep = %d after parallel steps 1001…1020, want 1020", got)
		}
	}},
	{"ParallelUsesOfOneRecoveryCodeSpendItOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("a", "b", "c"), at(1), nil))
		ok := make([]bool, 20)
		left := make([]int, 20)
		wantNoErrors(t, parallel(20, func(i int) (err error) {
			ok[i], left[i], err = s.UseRecoveryCode(t.Context(), u.ID, codeHashes("b")[0], at(2))
			return err
		}))
		if n := countTrue(ok); n != 1 {
			t.Errorf("%d of 20 parallel uses of one recovery code succeeded, want 1", n)
		}
		for i, n := range left {
			if n != 2 {
				t.Errorf("use %d saw %d codes left, want 2", i, n)
			}
		}
		if got := factors(t, s, u).RecoveryCodesLeft; got != 2 {
			t.Errorf("RecoveryCodesLeft = %d, want 2", got)
		}
	}},
	{"ParallelCompletionsOfOneChallengeEndItOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		c := challenge(t, s, u, "pending", 1)
		ended := make([]bool, 20)
		wantNoErrors(t, parallel(20, func(i int) (err error) {
			ended[i], err = s.EndLoginChallenge(t.Context(), c.ID)
			return err
		}))
		if n := countTrue(ended); n != 1 {
			t.Errorf("%d of 20 parallel completions ended the challenge, want 1", n)
		}
	}},
	{"ParallelReleasesStopAtZero", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		var right hmisauth.Attempt
		for i := 1; i <= 5; i++ {
			right = reserve(t, s, "jdoe", 10, i)
		}
		wantNoErrors(t, parallel(20, func(int) error {
			return s.ReleaseLoginAttempt(t.Context(), live, "jdoe", right)
		}))
		if got := reload(t, s, u).FailedAttempts; got != 0 {
			t.Errorf("%d attempts after 20 parallel releases of 5, want 0", got)
		}
	}},
}
