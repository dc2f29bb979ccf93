package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The audit contract for the writes of 2-step verification and session control: each appends
// the events its context carries with its change, and a write that fails, or finds nothing to
// do, appends none.
var mfaAuditTests = []test{
	{"EveryMFAWriteCarriesItsEvents", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		mine := newSession(t, s, u, "mine", false)
		desk := newSession(t, s, u, "desk", false)
		a := reserve(t, s, "jdoe", 3, 1)
		p := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("key"), Name: "Key", CreatedAt: at(1)}
		c := &hmisauth.LoginChallenge{Site: live, UserID: u.ID, TokenHash: tokenHash("challenge"), CreatedAt: at(1), ExpiresAt: at(300)}
		writes := []auditedWrite{
			{"ReleaseLoginAttempt", func(ctx context.Context) error { return s.ReleaseLoginAttempt(ctx, live, "jdoe", a) }},
			{"Reauthenticated", func(ctx context.Context) error {
				return s.Reauthenticated(ctx, mine.ID, at(2), tokenHash("mine2"))
			}},
			{"EndUserSession", func(ctx context.Context) error {
				return s.EndUserSession(ctx, u.ID, desk.ID, hmisauth.EndedByUser, t0)
			}},
			{"StartTOTP", func(ctx context.Context) error { return s.StartTOTP(ctx, u.ID, sealed("phone"), at(3)) }},
			{"ConfirmTOTP", func(ctx context.Context) error {
				return s.ConfirmTOTP(ctx, u.ID, sealed("phone"), 1000, at(3), codeHashes("a", "b"), nil)
			}},
			{"UseTOTPStep", func(ctx context.Context) error { return wantTrue(s.UseTOTPStep(ctx, u.ID, 1001)) }},
			{"ReplaceRecoveryCodes", func(ctx context.Context) error {
				return s.ReplaceRecoveryCodes(ctx, u.ID, codeHashes("c", "d"), at(4), nil)
			}},
			{"UseRecoveryCode", func(ctx context.Context) error {
				ok, _, err := s.UseRecoveryCode(ctx, u.ID, codeHashes("c")[0], at(4))
				return wantTrue(ok, err)
			}},
			{"AddPasskey", func(ctx context.Context) error { return s.AddPasskey(ctx, p, nil, nil) }},
			{"PasskeyUsed", func(ctx context.Context) error { return s.PasskeyUsed(ctx, p.ID, []byte("{}"), at(5)) }},
			{"RememberDevice", func(ctx context.Context) error {
				return s.RememberDevice(ctx, &hmisauth.RememberedDevice{UserID: u.ID, TokenHash: tokenHash("desk"),
					CreatedAt: at(5), ExpiresAt: at(3600)})
			}},
			{"DisableTOTP", func(ctx context.Context) error { return s.DisableTOTP(ctx, u.ID, false, nil) }},
			{"DeletePasskey", func(ctx context.Context) error { return s.DeletePasskey(ctx, u.ID, p.ID, false, nil) }},
			{"ResetSecondFactors", func(ctx context.Context) error { return s.ResetSecondFactors(ctx, u.ID, t0, nil) }},
			{"CreateLoginChallenge", func(ctx context.Context) error { return s.CreateLoginChallenge(ctx, c) }},
			{"SetChallengeWebAuthn", func(ctx context.Context) error { return s.SetChallengeWebAuthn(ctx, c.ID, []byte("{}")) }},
			{"EndLoginChallenge", func(ctx context.Context) error { return wantTrue(s.EndLoginChallenge(ctx, c.ID)) }},
			{"DeleteUserSessions", func(ctx context.Context) error {
				return s.DeleteUserSessions(ctx, u.ID, 0, hmisauth.EndedByHelpdesk, t0)
			}},
			{"DeleteExpiredSessions", func(ctx context.Context) error {
				return second(s.DeleteExpiredSessions(ctx, at(10), time.Time{}))
			}},
		}
		wantEachWriteAppendsItsEvent(t, s, writes)
	}},
	{"ResetSecondFactorsAppendsItsEventOnlyWithTheReset", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a")
		ev := event(hmisauth.EventMFAReset, "jdoe", "reset by the helpdesk", 2)
		wantCode(t, s.ResetSecondFactors(carrying(t, ev), 999, t0, nil), hmisauth.ENOTFOUND)
		if ev.ID != 0 || ev.Hash != nil {
			t.Fatalf("a failed reset left its event with ID %d, hash %x", ev.ID, ev.Hash)
		}
		wantDetails(t, s)
		must(t, s.ResetSecondFactors(carrying(t, ev), u.ID, t0, nil))
		wantDetails(t, s, "reset by the helpdesk")
		equal(t, "SecondFactors", factors(t, s, u), &hmisauth.SecondFactors{})
	}},
	{"AWriteWhoseEventIsRefusedChangesNothing", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a")
		newSession(t, s, u, "desk", false)
		// An event already appended is refused, and with it the change it came with.
		ctx := carrying(t, event(hmisauth.EventLoginSucceeded, "jdoe", "appended once", 2))
		must(t, s.LoginSucceeded(ctx, u.ID, at(2)))
		if err := s.ResetSecondFactors(ctx, u.ID, t0, nil); err == nil {
			t.Fatal("ResetSecondFactors with an event appended already succeeded")
		}
		if _, err := s.UseTOTPStep(ctx, u.ID, 1001); err == nil {
			t.Fatal("UseTOTPStep with an event appended already succeeded")
		}
		want := &hmisauth.SecondFactors{RecoveryCodesLeft: 1,
			TOTP: &hmisauth.TOTP{UserID: u.ID, Secret: sealed("phone"), ConfirmedAt: at(1), LastStep: 1000}}
		equal(t, "SecondFactors", factors(t, s, u), want)
		wantSessions(t, s, map[string]bool{"desk": true})
		wantReasons(t, s, map[string]string{"desk": ""})
		wantDetails(t, s, "appended once")
	}},
	{"AFailingMFAWriteAppendsNoEvent", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		theirs := newSession(t, s, other, "theirs", false)
		theirKey := addPasskey(t, s, other, "their-key", 1)
		must(t, s.StartTOTP(t.Context(), u.ID, sealed("newer"), at(1)))
		ev := event("test", "jdoe", "must not be written", 2)
		fails := []struct {
			name  string
			code  string
			write func(ctx context.Context) error
		}{
			{"ConfirmTOTP of a superseded enrolment", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.ConfirmTOTP(ctx, u.ID, sealed("older"), 1000, at(2), codeHashes("a"), nil)
			}},
			{"AddPasskey of a registered key", hmisauth.ECONFLICT, func(ctx context.Context) error {
				return s.AddPasskey(ctx, &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("their-key"), CreatedAt: at(2)}, nil, nil)
			}},
			{"DeletePasskey of another user's", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.DeletePasskey(ctx, u.ID, theirKey.ID, false, nil)
			}},
			{"EndUserSession of another user's", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.EndUserSession(ctx, u.ID, theirs.ID, hmisauth.EndedByUser, t0)
			}},
			{"DisableTOTP of no user", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.DisableTOTP(ctx, 999, false, nil)
			}},
			{"UseRecoveryCode of no user", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				_, _, err := s.UseRecoveryCode(ctx, 999, codeHashes("a")[0], at(2))
				return err
			}},
		}
		for _, f := range fails {
			if err := f.write(carrying(t, ev)); hmisauth.ErrorCode(err) != f.code {
				t.Errorf("%s: error %v, want code %s", f.name, err, f.code)
			}
			if ev.ID != 0 || ev.Hash != nil {
				t.Fatalf("%s failed, yet its event has ID %d, hash %x", f.name, ev.ID, ev.Hash)
			}
		}
		wantDetails(t, s)
	}},
	{"ARefusedSingleUseAppendsNoEvent", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a")
		c := challenge(t, s, u, "pending", 1)
		must(t, second(s.EndLoginChallenge(t.Context(), c.ID)))
		ev := event(hmisauth.EventLoginSucceeded, "jdoe", "must not be written", 2)
		refusals := []struct {
			name string
			use  func(ctx context.Context) (bool, error)
		}{
			{"UseTOTPStep of a replayed step", func(ctx context.Context) (bool, error) { return s.UseTOTPStep(ctx, u.ID, 1000) }},
			{"UseRecoveryCode of a wrong code", func(ctx context.Context) (bool, error) {
				ok, _, err := s.UseRecoveryCode(ctx, u.ID, codeHashes("wrong")[0], at(2))
				return ok, err
			}},
			{"EndLoginChallenge of an ended one", func(ctx context.Context) (bool, error) { return s.EndLoginChallenge(ctx, c.ID) }},
		}
		for _, r := range refusals {
			ok, err := r.use(carrying(t, ev))
			if err != nil || ok {
				t.Errorf("%s = %v, %v; want false", r.name, ok, err)
			}
			if ev.ID != 0 {
				t.Fatalf("%s changed nothing, yet appended its event (ID %d)", r.name, ev.ID)
			}
		}
		wantDetails(t, s)
	}},
}
