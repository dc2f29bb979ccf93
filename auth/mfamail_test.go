package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// mailCount is how many e-mails the outbox holds, whoever queued them.
func (f *fixture) mailCount() int {
	f.t.Helper()
	ms, err := f.store.RecentMail(f.ctx, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(ms)
}

// mfaNotice checks that exactly one e-mail was queued since the outbox held before: the
// 2-step verification notice to u, with subject and words in both parts, the time of the
// change in the site's timezone and the helpdesk warning. It returns the message.
func (f *fixture) mfaNotice(t *testing.T, before int, u *hmisauth.User, subject string, words ...string) *hmisauth.Message {
	t.Helper()
	ms, err := f.store.RecentMail(f.ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ms) - before; n != 1 {
		t.Fatalf("%d e-mails queued, want the one notice", n)
	}
	m := ms[0]
	if m.Kind != hmisauth.MailMFAChanged || m.To != u.Email || m.Subject != subject {
		t.Fatalf("queued %s to %q: %q, want %s to %q: %q", m.Kind, m.To, m.Subject, hmisauth.MailMFAChanged, u.Email, subject)
	}
	when := f.clock.Now().In(f.live.Location).Format("Mon Jan 2, 2006 at 3:04 PM MST")
	words = append(words, "(username: ", u.Username, "on "+when, "contact the helpdesk at once.",
		"helpdesk@example.org or 555-0100")
	for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
		for _, w := range words {
			if !strings.Contains(body, w) {
				t.Errorf("%s part lacks %q:\n%s", part, w, body)
			}
		}
	}
	return m
}

// noMail checks nothing was queued since the outbox held before.
func (f *fixture) noMail(t *testing.T, before int, what string) {
	t.Helper()
	if n := f.mailCount() - before; n != 0 {
		t.Errorf("%s queued %d e-mails, want none", what, n)
	}
}

const fromLogin = "The change came from the internet address 127.0.0.1."

func TestTurningTheAppOnAndOffEmailsTheUser(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	e := f.startTOTP(p)
	before := f.mailCount()
	if _, err := f.svc.ConfirmTOTP(f.ctx, p, code(t, e.Secret, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.mfaNotice(t, before, u, "HMIS Live: an authenticator app was turned on for 2-step verification",
		"An authenticator app was turned on", fromLogin)

	f.clock.Add(time.Minute)
	before = f.mailCount()
	if err := f.svc.DisableTOTP(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	f.mfaNotice(t, before, u, "HMIS Live: the authenticator app for 2-step verification was turned off",
		"was turned off on", fromLogin)
}

func TestNewRecoveryCodesEmailTheUser(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	res, err := f.loginWith(u.Username, goodPassword, code(t, secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	before := f.mailCount()
	if _, err := f.svc.NewRecoveryCodes(f.ctx, res.Principal); err != nil {
		t.Fatal(err)
	}
	f.mfaNotice(t, before, u, "HMIS Live: new recovery codes were made for 2-step verification",
		"The recovery codes you had before no longer work.", fromLogin)
}

func TestAddingAndRemovingAPasskeyEmailsItsName(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	before := f.mailCount()
	f.addPasskey(p, newSecurityKey(t), "Office laptop")
	f.mfaNotice(t, before, u, "HMIS Live: a passkey was added to your account", "“Office laptop”", fromLogin)

	// A second one, with 2-step verification on already, is news too.
	before = f.mailCount()
	f.addPasskey(p, newSecurityKey(t), "Blue USB key")
	f.mfaNotice(t, before, u, "HMIS Live: a passkey was added to your account", "“Blue USB key”")

	fs, err := f.store.SecondFactors(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	before = f.mailCount()
	if err := f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID); err != nil {
		t.Fatal(err)
	}
	m := f.mfaNotice(t, before, u, "HMIS Live: a passkey was removed from your account",
		"The passkey named", "“Office laptop”", "was removed", fromLogin)
	if strings.Contains(m.Text, "Blue USB key") {
		t.Errorf("the notice names the passkey that stays:\n%s", m.Text)
	}
}

func TestHelpdeskResetOfMFAEmailsTheUser(t *testing.T) {
	f := newFixture(t)
	u, _, _ := f.withTOTP("Ana", "Diaz")
	admin := f.adminOf(f.signedInAs("Sam", "Admin", "sysadmin", ""))
	before := f.mailCount()
	if _, err := admin.ResetMFA(f.ctx, u.Username); err != nil {
		t.Fatal(err)
	}
	m := f.mfaNotice(t, before, u, "HMIS Live: the helpdesk reset your 2-step verification",
		"The helpdesk reset 2-step verification", "If you asked the helpdesk for this",
		"If you did not ask for this, contact the helpdesk at once.")
	if strings.Contains(m.Text, "internet address") {
		t.Errorf("the helpdesk's reset names an internet address:\n%s", m.Text)
	}
}

func TestNoMFANoticeWithoutAnEmailAddress(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	none := ""
	if err := f.svc.UpdateContact(f.ctx, p, auth.ContactChange{Email: &none}); err != nil {
		t.Fatal(err)
	}
	before := f.mailCount()

	e := f.startTOTP(p)
	if _, err := f.svc.ConfirmTOTP(f.ctx, p, code(t, e.Secret, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.NewRecoveryCodes(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	f.addPasskey(p, newSecurityKey(t), "Office laptop")
	fs, err := f.store.SecondFactors(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DisableTOTP(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	f.noMail(t, before, "the user's changes to an account without an e-mail address")

	admin := f.adminOf(f.signedInAs("Sam", "Admin", "sysadmin", ""))
	before = f.mailCount() // the administrator's own set-up sent theirs
	if _, err := admin.ResetMFA(f.ctx, u.Username); err != nil {
		t.Fatal(err)
	}
	f.noMail(t, before, "the helpdesk's reset of an account without an e-mail address")
}

func TestRefusedMFAChangeEmailsNothing(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.MFA.Required = "everyone" })
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	res, err := f.loginWith(u.Username, goodPassword, code(t, secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Principal
	key := newSecurityKey(t)
	f.addPasskey(p, key, "Office laptop")
	other := f.login(f.user("Ben", "Cole").Username, goodPassword).Principal
	before := f.mailCount()

	if err := f.svc.DisableTOTP(f.ctx, p); err != nil { // the passkey remains: allowed
		t.Fatal(err)
	}
	f.mfaNotice(t, before, u, "HMIS Live: the authenticator app for 2-step verification was turned off")
	before = f.mailCount()
	fs, err := f.store.SecondFactors(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID), hmisauth.EFORBIDDEN) // the site requires one
	wantCode(t, f.svc.DeletePasskey(f.ctx, p, 999), hmisauth.ENOTFOUND)
	wantCode(t, f.svc.DisableTOTP(f.ctx, p), hmisauth.ENOTFOUND) // off already
	if _, err := f.svc.StartTOTP(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ConfirmTOTP(f.ctx, p, "000000")
	wantCode(t, err, hmisauth.ETOTPWrong)
	// Another account cannot take the passkey over: the store refuses it.
	options, state, err := f.svc.BeginPasskeyRegistration(f.ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FinishPasskeyRegistration(f.ctx, other, state, "Ana's key", key.create(options))
	wantCode(t, err, hmisauth.ECONFLICT)

	f.clock.Add(5 * time.Minute) // session.reauth: the settings close
	_, err = f.svc.NewRecoveryCodes(f.ctx, p)
	wantCode(t, err, hmisauth.EReauthRequired)
	_, err = f.svc.ResetMFA(f.ctx, "live", "nobody") // as the command line does
	wantCode(t, err, hmisauth.ENOTFOUND)
	f.noMail(t, before, "refused changes")
}
