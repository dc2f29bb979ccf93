package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

// mfaNotice stands in for the "2-step verification changed" e-mail of one change, at t0+sec.
func mfaNotice(u *hmisauth.User, change string, sec int) *hmisauth.Message {
	m := message(u.Email, hmisauth.MailMFAChanged, sec)
	m.Subject = "HMIS Live: 2-step verification changed: " + change
	return m
}

// Every change to 2-step verification queues its notice in its own transaction, so the user
// hears of exactly the changes that happened: a refused one queues nothing.
var mfaMailTests = []test{
	{"EveryChangeQueuesItsNotice", func(t *testing.T, s hmisauth.Store) {
		ctx := t.Context()
		u := newUser(t, s, live, "jdoe")
		var want []*hmisauth.Message
		queued := func(what string, m *hmisauth.Message, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if m.ID == 0 {
				t.Fatalf("%s left the notice's ID zero", what)
			}
			want = append([]*hmisauth.Message{m}, want...)
			wantOutbox(t, s, want...)
		}

		must(t, s.StartTOTP(ctx, u.ID, sealed("phone"), at(1)))
		m := mfaNotice(u, hmisauth.MFAChangeAppOn, 1)
		queued("ConfirmTOTP", m, s.ConfirmTOTP(ctx, u.ID, sealed("phone"), 1000, at(1), codeHashes("a", "b"), m))
		m = mfaNotice(u, hmisauth.MFAChangeRecoveryCodes, 2)
		queued("ReplaceRecoveryCodes", m, s.ReplaceRecoveryCodes(ctx, u.ID, codeHashes("c", "d"), at(2), m))
		p := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("key"), Name: "Office laptop", CreatedAt: at(3)}
		m = mfaNotice(u, hmisauth.MFAChangePasskeyAdded, 3)
		queued("AddPasskey", m, s.AddPasskey(ctx, p, nil, m))
		m = mfaNotice(u, hmisauth.MFAChangeAppOff, 4)
		queued("DisableTOTP", m, s.DisableTOTP(ctx, u.ID, true, m)) // the passkey remains
		m = mfaNotice(u, hmisauth.MFAChangePasskeyRemoved, 5)
		queued("DeletePasskey", m, s.DeletePasskey(ctx, u.ID, p.ID, false, m))
		wantMFA(t, s, u, false)

		enrolTOTP(t, s, u, "new-phone", 2000, 6, "e")
		m = mfaNotice(u, hmisauth.MFAChangeReset, 7)
		queued("ResetSecondFactors", m, s.ResetSecondFactors(ctx, u.ID, t0, m))
		wantMFA(t, s, u, false)
	}},
	{"FirstPasskeyQueuesItsNoticeWithItsCodes", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		p := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("key"), Name: "Office laptop", CreatedAt: at(1)}
		m := mfaNotice(u, hmisauth.MFAChangePasskeyAdded, 1)
		must(t, s.AddPasskey(t.Context(), p, codeHashes("x", "y"), m))
		if f := factors(t, s, u); len(f.Passkeys) != 1 || f.RecoveryCodesLeft != 2 {
			t.Fatalf("factors = %+v, want a passkey and 2 codes", f)
		}
		wantOutbox(t, s, m)
	}},
	{"NoNoticeWithoutOne", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		enrolTOTP(t, s, u, "phone", 1000, 1, "a")
		must(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, codeHashes("b"), at(2), nil))
		k := addPasskey(t, s, u, "key", 3)
		must(t, s.DisableTOTP(t.Context(), u.ID, false, nil))
		must(t, s.DeletePasskey(t.Context(), u.ID, k.ID, false, nil))
		must(t, s.ResetSecondFactors(t.Context(), u.ID, t0, nil))
		wantOutbox(t, s)
	}},
	{"RefusedChangeQueuesNothing", func(t *testing.T, s hmisauth.Store) {
		ctx := t.Context()
		u := newUser(t, s, live, "jdoe")
		other := newUser(t, s, live, "other")
		refused := func(what string, err error, code string) {
			t.Helper()
			if got := hmisauth.ErrorCode(err); got != code {
				t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
			}
			if ms := outbox(t, s); len(ms) != 0 {
				t.Fatalf("%s was refused but queued %d messages: %q", what, len(ms), ms[0].Subject)
			}
		}
		notice := func(change string) *hmisauth.Message { return mfaNotice(u, change, 10) }

		refused("ConfirmTOTP with nothing pending",
			s.ConfirmTOTP(ctx, u.ID, sealed("phone"), 1000, at(1), codeHashes("a"), notice(hmisauth.MFAChangeAppOn)),
			hmisauth.ENOTFOUND)
		must(t, s.StartTOTP(ctx, u.ID, sealed("phone"), at(1)))
		must(t, s.StartTOTP(ctx, u.ID, sealed("newer-phone"), at(2)))
		refused("ConfirmTOTP of a replaced enrolment",
			s.ConfirmTOTP(ctx, u.ID, sealed("phone"), 1000, at(3), codeHashes("a"), notice(hmisauth.MFAChangeAppOn)),
			hmisauth.ENOTFOUND)
		refused("ConfirmTOTP of no user",
			s.ConfirmTOTP(ctx, 999, sealed("phone"), 1000, at(3), nil, notice(hmisauth.MFAChangeAppOn)),
			hmisauth.ENOTFOUND)

		must(t, s.ConfirmTOTP(ctx, u.ID, sealed("newer-phone"), 1000, at(4), codeHashes("a"), nil))
		refused("DisableTOTP of the last factor",
			s.DisableTOTP(ctx, u.ID, true, notice(hmisauth.MFAChangeAppOff)), hmisauth.EFORBIDDEN)
		refused("DisableTOTP of no user",
			s.DisableTOTP(ctx, 999, false, notice(hmisauth.MFAChangeAppOff)), hmisauth.ENOTFOUND)
		refused("ReplaceRecoveryCodes of no user",
			s.ReplaceRecoveryCodes(ctx, 999, codeHashes("b"), at(5), notice(hmisauth.MFAChangeRecoveryCodes)),
			hmisauth.ENOTFOUND)

		theirs := addPasskey(t, s, other, "their-key", 6)
		again := &hmisauth.Passkey{UserID: u.ID, CredentialID: []byte("their-key"), Name: "Copy", CreatedAt: at(7)}
		refused("AddPasskey of a registered credential",
			s.AddPasskey(ctx, again, nil, notice(hmisauth.MFAChangePasskeyAdded)), hmisauth.ECONFLICT)
		nobody := &hmisauth.Passkey{UserID: 999, CredentialID: []byte("nobody's"), CreatedAt: at(7)}
		refused("AddPasskey of no user",
			s.AddPasskey(ctx, nobody, codeHashes("c"), notice(hmisauth.MFAChangePasskeyAdded)), hmisauth.ENOTFOUND)

		refused("DeletePasskey of another user's",
			s.DeletePasskey(ctx, u.ID, theirs.ID, false, notice(hmisauth.MFAChangePasskeyRemoved)), hmisauth.ENOTFOUND)
		k := addPasskey(t, s, u, "key", 8)
		must(t, s.DisableTOTP(ctx, u.ID, true, nil)) // the passkey is now the last factor
		refused("DeletePasskey of the last factor",
			s.DeletePasskey(ctx, u.ID, k.ID, true, notice(hmisauth.MFAChangePasskeyRemoved)), hmisauth.EFORBIDDEN)
		refused("ResetSecondFactors of no user",
			s.ResetSecondFactors(ctx, 999, t0, notice(hmisauth.MFAChangeReset)), hmisauth.ENOTFOUND)

		if f := factors(t, s, u); len(f.Passkeys) != 1 || f.TOTP.Confirmed() {
			t.Errorf("after the refusals the factors are %+v, want the one passkey", f)
		}
	}},
}
