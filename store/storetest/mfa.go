package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

// sealed stands in for a secret sealed by the server's key.
func sealed(name string) []byte { return []byte("sealed:" + name) }

// codeHashes stands in for the hashes of recovery codes.
func codeHashes(codes ...string) [][]byte {
	out := make([][]byte, len(codes))
	for i, c := range codes {
		out[i] = tokenHash("code:" + c)
	}
	return out
}

func factors(t *testing.T, s hmisauth.Store, u *hmisauth.User) *hmisauth.SecondFactors {
	t.Helper()
	f, err := s.SecondFactors(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("SecondFactors(%d): %v", u.ID, err)
	}
	return f
}

// enrolTOTP sets up u's authenticator app with the secret name, confirmed at t0+sec by a code
// of step, with recovery codes.
func enrolTOTP(t *testing.T, s hmisauth.Store, u *hmisauth.User, name string, step int64, sec int, codes ...string) {
	t.Helper()
	must(t, s.StartTOTP(t.Context(), u.ID, sealed(name), at(sec)))
	must(t, s.ConfirmTOTP(t.Context(), u.ID, sealed(name), step, at(sec), codeHashes(codes...), nil))
}

func addPasskey(t *testing.T, s hmisauth.Store, u *hmisauth.User, credentialID string, sec int) *hmisauth.Passkey {
	t.Helper()
	p := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte(credentialID), Name: "Key " + credentialID,
		Credential: []byte(`{"id":"` + credentialID + `","signCount":0}`), CreatedAt: at(sec)}
	must(t, s.AddPasskey(t.Context(), p, nil, nil))
	if p.ID == 0 {
		t.Fatalf("AddPasskey(%s) left ID zero", credentialID)
	}
	return p
}

// wantStep checks UseTOTPStep(step) answers want.
func wantStep(t *testing.T, s hmisauth.Store, u *hmisauth.User, step int64, want bool) {
	t.Helper()
	got, err := s.UseTOTPStep(t.Context(), u.ID, step)
	must(t, err)
	if got != want {
		t.Errorf("UseTOTPStep(%d) = %v, want %v", step, got, want)
	}
}

// wantCodeUse checks UseRecoveryCode(code) answers ok and left.
func wantCodeUse(t *testing.T, s hmisauth.Store, u *hmisauth.User, code string, ok bool, left int) {
	t.Helper()
	gotOK, gotLeft, err := s.UseRecoveryCode(t.Context(), u.ID, codeHashes(code)[0], at(100))
	must(t, err)
	if gotOK != ok || gotLeft != left {
		t.Errorf("UseRecoveryCode(%s) = %v, %d left; want %v, %d left", code, gotOK, gotLeft, ok, left)
	}
}

// wantMFA checks User, UserByID and Users all say whether u has 2-step verification on.
func wantMFA(t *testing.T, s hmisauth.Store, u *hmisauth.User, want bool) {
	t.Helper()
	byName, err := s.User(t.Context(), u.Site, u.Username)
	must(t, err)
	var listed *hmisauth.User
	for _, l := range users(t, s, hmisauth.UserQuery{Site: u.Site}) {
		if l.ID == u.ID {
			listed = l
		}
	}
	if listed == nil {
		t.Fatalf("Users did not list %s", u.Username)
	}
	for what, got := range map[string]bool{
		"UserByID": reload(t, s, u).MFAEnabled, "User": byName.MFAEnabled, "Users": listed.MFAEnabled,
	} {
		if got != want {
			t.Errorf("%s(%s).MFAEnabled = %v, want %v", what, u.Username, got, want)
		}
	}
}

var mfaTests = []test{
	{"NoFactorsIsEmptyNotNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		f := factors(t, s, u)
		equal(t, "SecondFactors", f, &hmisauth.SecondFactors{})
		if f.Enabled() {
			t.Error("a user with nothing set up has 2-step verification enabled")
		}
		equal(t, "SecondFactors(no such user)", factors(t, s, &hmisauth.User{ID: 999}), &hmisauth.SecondFactors{})
	}},
	{"StartTOTPIsPendingUntilConfirmed", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("phone"), at(1)))
		f := factors(t, s, u)
		equal(t, "SecondFactors", f, &hmisauth.SecondFactors{
			TOTP: &hmisauth.TOTP{UserID: u.ID, Pending: sealed("phone"), PendingAt: at(1)}})
		if f.Enabled() {
			t.Error("an enrolment not yet confirmed enables 2-step verification")
		}
		wantMFA(t, s, u, false)
		wantCode(t, s.StartTOTP(t.Context(), 999, sealed("phone"), at(1)), hmisauth.ENOTFOUND)
	}},
	{"ConfirmTOTPPutsTheSecretInUse", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("phone"), at(1)))
		must(t, s.ConfirmTOTP(t.Context(), u.ID, sealed("phone"), 1000, at(2), codeHashes("a", "b", "c"), nil))
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{
			TOTP:              &hmisauth.TOTP{UserID: u.ID, Secret: sealed("phone"), ConfirmedAt: at(2), LastStep: 1000},
			RecoveryCodesLeft: 3,
		})
		wantMFA(t, s, u, true)
	}},
	{"ConfirmTOTPReplacesRecoveryCodes", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("old1", "old2", "old3"), at(1), nil))
		wantCodeUse(t, s, u, "old1", true, 2)
		enrolTOTP(t, s, u, "phone", 1000, 2, "new1", "new2")
		if got := factors(t, s, u).RecoveryCodesLeft; got != 2 {
			t.Errorf("RecoveryCodesLeft = %d, want 2", got)
		}
		wantCodeUse(t, s, u, "old2", false, 2)
		wantCodeUse(t, s, u, "new1", true, 1)
	}},
	{"ConfirmTOTPOfSupersededEnrolmentIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("kept"), at(1), nil))
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("first"), at(2)))
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("second"), at(3)))
		err := s.ConfirmTOTP(t.Context(), u.ID, sealed("first"), 1000, at(4), codeHashes("x"), nil)
		if e := wantCode(t, err, hmisauth.ENOTFOUND); e.Message == "" {
			t.Error("a superseded enrolment's error has no message for the user")
		}
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{
			TOTP:              &hmisauth.TOTP{UserID: u.ID, Pending: sealed("second"), PendingAt: at(3)},
			RecoveryCodesLeft: 1,
		})
		wantCodeUse(t, s, u, "x", false, 1)
	}},
	{"ConfirmTOTPTwiceIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a")
		err := s.ConfirmTOTP(t.Context(), u.ID, sealed("phone"), 2000, at(2), codeHashes("b", "c"), nil)
		wantCode(t, err, hmisauth.ENOTFOUND)
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{
			TOTP:              &hmisauth.TOTP{UserID: u.ID, Secret: sealed("phone"), ConfirmedAt: at(1), LastStep: 1000},
			RecoveryCodesLeft: 1,
		})
		wantCode(t, s.ConfirmTOTP(t.Context(), 999, sealed("phone"), 1, at(2), nil, nil), hmisauth.ENOTFOUND)
	}},
	{"NewPhoneReplacesTheOldOnlyOnceConfirmed", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "old-phone", 1000, 1)
		wantStep(t, s, u, 1001, true)
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("new-phone"), at(2)))
		equal(t, "TOTP while the new phone is pending", factors(t, s, u).TOTP, &hmisauth.TOTP{
			UserID: u.ID, Secret: sealed("old-phone"), ConfirmedAt: at(1), LastStep: 1001,
			Pending: sealed("new-phone"), PendingAt: at(2)})
		wantMFA(t, s, u, true)
		wantStep(t, s, u, 1002, true) // the old phone still signs in
		must(t, s.ConfirmTOTP(t.Context(), u.ID, sealed("new-phone"), 1003, at(3), nil, nil))
		equal(t, "TOTP after confirming the new phone", factors(t, s, u).TOTP, &hmisauth.TOTP{
			UserID: u.ID, Secret: sealed("new-phone"), ConfirmedAt: at(3), LastStep: 1003})
	}},
	{"TOTPStepIsAcceptedOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1)
		wantStep(t, s, u, 1000, false) // the code that confirmed the app
		wantStep(t, s, u, 1001, true)
		wantStep(t, s, u, 1001, false)
		wantStep(t, s, u, 999, false) // older than the newest accepted
		wantStep(t, s, u, 1005, true)
		wantStep(t, s, u, 1003, false)
		if got := factors(t, s, u).TOTP.LastStep; got != 1005 {
			t.Errorf("LastStep = %d, want 1005", got)
		}
	}},
	{"TOTPStepNeedsAnAppInUse", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		wantStep(t, s, u, 1, false)
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("phone"), at(1)))
		wantStep(t, s, u, 1, false)
		_, err := s.UseTOTPStep(t.Context(), 999, 1)
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"DisableTOTPWithoutPasskeyForgetsCodesAndDevices", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a", "b")
		enrolTOTP(t, s, other, "their-phone", 1000, 1, "a")
		rememberDevice(t, s, u, "desk", at(3600))
		rememberDevice(t, s, other, "theirs", at(3600))
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("new-phone"), at(2)))
		must(t, s.DisableTOTP(t.Context(), u.ID, false, nil))
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{})
		wantMFA(t, s, u, false)
		wantRemembered(t, s, u, "desk", at(4), false)
		wantRemembered(t, s, other, "theirs", at(4), true)
		if f := factors(t, s, other); !f.TOTP.Confirmed() || f.RecoveryCodesLeft != 1 {
			t.Errorf("another user's factors changed: confirmed %v, %d codes", f.TOTP.Confirmed(), f.RecoveryCodesLeft)
		}
		must(t, s.DisableTOTP(t.Context(), u.ID, false, nil)) // nothing left to remove
		wantCode(t, s.DisableTOTP(t.Context(), 999, false, nil), hmisauth.ENOTFOUND)
	}},
	{"DisableTOTPKeepsCodesAndDevicesWhileAPasskeyRemains", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a", "b")
		p := addPasskey(t, s, u, "key", 2)
		rememberDevice(t, s, u, "desk", at(3600))
		must(t, s.DisableTOTP(t.Context(), u.ID, false, nil))
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{
			RecoveryCodesLeft: 2, Passkeys: []*hmisauth.Passkey{p}})
		wantMFA(t, s, u, true)
		wantRemembered(t, s, u, "desk", at(4), true)
	}},
	{"RecoveryCodeWorksOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("a", "b", "c"), at(1), nil))
		wantCodeUse(t, s, u, "b", true, 2)
		wantCodeUse(t, s, u, "b", false, 2)
		wantCodeUse(t, s, u, "wrong", false, 2)
		wantCodeUse(t, s, u, "a", true, 1)
		wantCodeUse(t, s, u, "c", true, 0)
		wantCodeUse(t, s, u, "c", false, 0)
		_, _, err := s.UseRecoveryCode(t.Context(), 999, codeHashes("a")[0], at(2))
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"RecoveryCodesArePerUser", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		must(t, s.ReplaceRecoveryCodes(t.Context(), other.ID, codeHashes("theirs"), at(1), nil))
		wantCodeUse(t, s, u, "theirs", false, 0)
		wantCodeUse(t, s, other, "theirs", true, 0)
	}},
	{"ReplaceRecoveryCodesDropsUsedAndUnused", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("a", "b"), at(1), nil))
		wantCodeUse(t, s, u, "a", true, 1)
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("c", "d", "e"), at(2), nil))
		if got := factors(t, s, u).RecoveryCodesLeft; got != 3 {
			t.Errorf("RecoveryCodesLeft = %d, want 3", got)
		}
		wantCodeUse(t, s, u, "b", false, 3)
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, nil, at(3), nil))
		wantCodeUse(t, s, u, "c", false, 0)
		wantCode(t, s.ReplaceRecoveryCodes(t.Context(), 999, codeHashes("a"), at(3), nil), hmisauth.ENOTFOUND)
	}},
	{"PasskeysRoundTripOldestFirst", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		first := addPasskey(t, s, u, "first", 5)
		second := addPasskey(t, s, u, "second", 1) // an earlier clock: order is registration order
		addPasskey(t, s, other, "theirs", 2)
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{
			Passkeys: []*hmisauth.Passkey{first, second}})
		wantMFA(t, s, u, true)
	}},
	{"PasskeyCredentialIDIsUnique", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		addPasskey(t, s, u, "key", 1)
		p := &hmisauth.Passkey{UserID: other.ID, CredentialID: []byte("key"), Name: "Same key", CreatedAt: at(2)}
		wantCode(t, s.AddPasskey(t.Context(), p, nil, nil), hmisauth.ECONFLICT)
		equal(t, "other's SecondFactors", factors(t, s, other), &hmisauth.SecondFactors{})
		p = &hmisauth.Passkey{UserID: 999, CredentialID: []byte("new"), CreatedAt: at(2)}
		wantCode(t, s.AddPasskey(t.Context(), p, nil, nil), hmisauth.ENOTFOUND)
	}},
	{"PasskeyUsedRecordsCredentialAndTime", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		p := addPasskey(t, s, u, "key", 1)
		must(t, s.PasskeyUsed(t.Context(), p.ID, []byte(`{"signCount":7}`), at(60)))
		p.Credential, p.LastUsedAt = []byte(`{"signCount":7}`), at(60)
		equal(t, "Passkeys", factors(t, s, u).Passkeys, []*hmisauth.Passkey{p})
		wantCode(t, s.PasskeyUsed(t.Context(), p.ID+1000, nil, at(61)), hmisauth.ENOTFOUND)
	}},
	{"DeletePasskeyOfAnotherUserIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		theirs := addPasskey(t, s, other, "theirs", 1)
		wantCode(t, s.DeletePasskey(t.Context(), u.ID, theirs.ID, false, nil), hmisauth.ENOTFOUND)
		equal(t, "Passkeys", factors(t, s, other).Passkeys, []*hmisauth.Passkey{theirs})
	}},
	{"DeletingTheLastFactorForgetsCodesAndDevices", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		a := addPasskey(t, s, u, "a", 1)
		b := addPasskey(t, s, u, "b", 2)
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("x", "y"), at(3), nil))
		rememberDevice(t, s, u, "desk", at(3600))
		must(t, s.DeletePasskey(t.Context(), u.ID, a.ID, false, nil))
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{
			RecoveryCodesLeft: 2, Passkeys: []*hmisauth.Passkey{b}})
		wantRemembered(t, s, u, "desk", at(4), true)
		must(t, s.DeletePasskey(t.Context(), u.ID, b.ID, false, nil))
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{})
		wantRemembered(t, s, u, "desk", at(4), false)
		wantMFA(t, s, u, false)
		wantCode(t, s.DeletePasskey(t.Context(), u.ID, b.ID, false, nil), hmisauth.ENOTFOUND)
	}},
	{"DeletingAPasskeyKeepsCodesWhileTheAppIsInUse", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "x")
		p := addPasskey(t, s, u, "key", 2)
		rememberDevice(t, s, u, "desk", at(3600))
		must(t, s.DeletePasskey(t.Context(), u.ID, p.ID, false, nil))
		if f := factors(t, s, u); f.RecoveryCodesLeft != 1 || len(f.Passkeys) != 0 || !f.TOTP.Confirmed() {
			t.Errorf("after deleting the passkey: %d codes, %d passkeys, app confirmed %v; want 1, 0, true",
				f.RecoveryCodesLeft, len(f.Passkeys), f.TOTP.Confirmed())
		}
		wantRemembered(t, s, u, "desk", at(4), true)
		wantMFA(t, s, u, true)
	}},
	{"ResetSecondFactorsRemovesEverythingAndEndsSessions", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a", "b")
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("new-phone"), at(2)))
		addPasskey(t, s, u, "key", 2)
		rememberDevice(t, s, u, "desk", at(3600))
		newSession(t, s, u, "desk", false)
		newSession(t, s, u, "laptop", false)
		enrolTOTP(t, s, other, "their-phone", 1000, 1, "c")
		theirs := addPasskey(t, s, other, "their-key", 2)
		rememberDevice(t, s, other, "theirs", at(3600))
		newSession(t, s, other, "theirs", false)
		must(t, s.ResetSecondFactors(t.Context(), u.ID, t0, nil))
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{})
		wantMFA(t, s, u, false)
		wantRemembered(t, s, u, "desk", at(4), false)
		wantSessions(t, s, map[string]bool{"desk": false, "laptop": false, "theirs": true})
		wantReasons(t, s, map[string]string{
			"desk": hmisauth.EndedByHelpdesk, "laptop": hmisauth.EndedByHelpdesk, "theirs": ""})
		equal(t, "other's SecondFactors", factors(t, s, other), &hmisauth.SecondFactors{
			TOTP:              &hmisauth.TOTP{UserID: other.ID, Secret: sealed("their-phone"), ConfirmedAt: at(1), LastStep: 1000},
			RecoveryCodesLeft: 1, Passkeys: []*hmisauth.Passkey{theirs}})
		wantRemembered(t, s, other, "theirs", at(4), true)
		wantCode(t, s.ResetSecondFactors(t.Context(), 999, t0, nil), hmisauth.ENOTFOUND)
	}},
	{"UserMFAEnabledFollowsFactors", func(t *testing.T, s hmisauth.Store) {
		app := newUser(t, s, live, "app")
		key := newUser(t, s, live, "key")
		both := newUser(t, s, live, "both")
		none := newUser(t, s, live, "none")
		pending := newUser(t, s, live, "pending")
		enrolTOTP(t, s, app, "phone", 1000, 1)
		addPasskey(t, s, key, "key", 1)
		enrolTOTP(t, s, both, "phone", 1000, 1)
		addPasskey(t, s, both, "both-key", 1)
		must(t, s.ReplaceRecoveryCodes(t.Context(), none.ID, codeHashes("a"), at(1), nil)) // codes alone are no factor
		must(t, s.StartTOTP(t.Context(), pending.ID, sealed("phone"), at(1)))
		got := make(map[string]bool)
		for _, u := range users(t, s, hmisauth.UserQuery{Site: live}) {
			got[u.Username] = u.MFAEnabled
		}
		equal(t, "MFAEnabled by username", got,
			map[string]bool{"app": true, "key": true, "both": true, "none": false, "pending": false})
		for _, u := range []*hmisauth.User{app, key, both} {
			wantMFA(t, s, u, true)
		}
		for _, u := range []*hmisauth.User{none, pending} {
			wantMFA(t, s, u, false)
		}
		must(t, s.DisableTOTP(t.Context(), both.ID, false, nil))
		wantMFA(t, s, both, true) // the passkey is still there
	}},
}
