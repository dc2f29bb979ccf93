package auth_test

import (
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// attemptsLeft signs in and returns the answer's code and AttemptsLeft.
func (f *fixture) attemptsLeft(username, pw string) (string, int) {
	f.t.Helper()
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: username, Password: pw})
	left := 0
	if e := hmisauth.AsError(err); e != nil {
		left = e.AttemptsLeft
	}
	return hmisauth.ErrorCode(err), left
}

// A failed sign-in says how many tries remain before the lock, counted down on the username
// typed: 2, 1, then locked — for an account and for a username nobody has alike.
func TestFailedSignInCountsDownToTheLock(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	for _, username := range []string{"jdoe", "nosuchuser"} {
		for i, want := range []struct {
			code string
			left int
		}{{hmisauth.ELoginFailed, 2}, {hmisauth.ELoginFailed, 1}, {hmisauth.EAccountLocked, 0}, {hmisauth.EAccountLocked, 0}} {
			code, left := f.attemptsLeft(username, "Wrong-Pass-1")
			if code != want.code || left != want.left {
				t.Errorf("%s attempt %d: %s with %d left, want %s with %d", username, i+1, code, left, want.code, want.left)
			}
		}
	}
}

// The number is read from the username's counter whatever made the sign-in fail, so a right
// password on a disabled account answers exactly what a wrong one does: nothing tells which
// reason applied, or that the account exists.
func TestAttemptsLeftIsTheSameForEveryReason(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.user("Jane", "Roe")
	if _, err := f.svc.SetDisabled(f.ctx, "live", "jroe", true); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		wrongCode, wrongLeft := f.attemptsLeft("jdoe", "Wrong-Pass-1")
		disabledCode, disabledLeft := f.attemptsLeft("jroe", goodPassword)
		unknownCode, unknownLeft := f.attemptsLeft("nosuchuser", goodPassword)
		if wrongCode != disabledCode || wrongCode != unknownCode || wrongLeft != disabledLeft || wrongLeft != unknownLeft {
			t.Errorf("attempt %d: wrong password %s/%d, disabled %s/%d, unknown %s/%d", i,
				wrongCode, wrongLeft, disabledCode, disabledLeft, unknownCode, unknownLeft)
		}
		if wrongLeft != 3-i {
			t.Errorf("attempt %d: %d left, want %d", i, wrongLeft, 3-i)
		}
	}
}

// A success clears the count, and the countdown starts again from the site's threshold.
func TestSuccessRestartsTheCountdown(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Lockout.Threshold = 5 })
	f.user("John", "Doe")
	if _, left := f.attemptsLeft("jdoe", "Wrong-Pass-1"); left != 4 {
		t.Errorf("after one failure of 5: %d left", left)
	}
	f.login("jdoe", goodPassword)
	if _, left := f.attemptsLeft("jdoe", "Wrong-Pass-1"); left != 4 {
		t.Errorf("after a success and one failure: %d left, want 4", left)
	}
}
