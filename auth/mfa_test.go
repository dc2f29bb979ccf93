package auth_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// code is what the user's authenticator app shows for secret at t.
func code(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withTOTP signs a new user in and turns the authenticator app on; it returns the user, the
// secret their phone holds and their recovery codes. The clock then moves past the code used.
// Turning the app on e-mails a notice, which counts as set-up mail (outbox leaves it out).
func (f *fixture) withTOTP(first, last string) (*hmisauth.User, string, []string) {
	f.t.Helper()
	t := f.t
	u := f.user(first, last)
	p := f.login(u.Username, goodPassword).Principal
	e := f.startTOTP(p)
	codes, err := f.svc.ConfirmTOTP(f.ctx, p, code(t, e.Secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	f.setupMail++
	f.clock.Add(30 * time.Second)
	return f.reload(u.Username), e.Secret, codes
}

// startTOTP begins setting up p's authenticator app (the secret shown, not yet confirmed).
func (f *fixture) startTOTP(p *auth.Principal) *auth.TOTPEnrolment {
	f.t.Helper()
	e, err := f.svc.StartTOTP(f.ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) loginWith(username, pw, c string) (*auth.LoginResult, error) {
	return f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: username, Password: pw, Code: c, ClientAddr: "127.0.0.1"})
}

func TestTOTPEnrolmentShowsSecretQRAndTenRecoveryCodes(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	e := f.startTOTP(p)
	if len(e.Secret) != 32 || !strings.HasPrefix(e.URL, "otpauth://totp/HMIS%20Live:"+u.Username+"?") ||
		!bytes.HasPrefix(e.QRCode, []byte("\x89PNG")) {
		t.Errorf("enrolment = secret %q, url %q, %d bytes of QR", e.Secret, e.URL, len(e.QRCode))
	}
	// Until confirmed, sign-in asks for nothing more.
	if f.reload(u.Username).MFAEnabled {
		t.Fatal("MFA on before the first code")
	}
	_, err := f.svc.ConfirmTOTP(f.ctx, p, "000000")
	wantCode(t, err, hmisauth.ETOTPWrong)
	codes, err := f.svc.ConfirmTOTP(f.ctx, p, code(t, e.Secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != auth.RecoveryCodeCount || len(codes[0]) != 11 || codes[0][5] != '-' {
		t.Errorf("recovery codes = %q", codes)
	}
	if !f.reload(u.Username).MFAEnabled {
		t.Error("MFA off after confirming")
	}
	f.clock.Add(30 * time.Second)
	_, err = f.loginWith(u.Username, goodPassword, "")
	wantCode(t, err, hmisauth.ETOTPRequired)
}

func TestSecretIsSealedAtRest(t *testing.T) {
	f := newFixture(t)
	u, secret, codes := f.withTOTP("Ana", "Diaz")
	fs, err := f.store.SecondFactors(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(fs.TOTP.Secret, []byte(secret)) || len(fs.TOTP.Secret) < 40 {
		t.Errorf("stored secret %q holds the secret in the clear", fs.TOTP.Secret)
	}
	// A service with another server key cannot read it: the code check fails, never as a
	// sign-in, and says whom to call.
	other := auth.NewService(auth.Deps{Store: f.store, Clock: f.clock, Hasher: f.hasher, Sites: []*hmisauth.Site{f.live, f.train}, Letters: f.letters})
	_, err = other.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword,
		Code: code(t, secret, f.clock.Now())})
	if hmisauth.ErrorCode(err) != hmisauth.EMFAUnavailable || !strings.Contains(hmisauth.ErrorMessage(err), "helpdesk@example.org") {
		t.Errorf("sign-in with the wrong server key: %v", err)
	}
	if n := f.reload(u.Username).FailedAttempts; n != 0 {
		t.Errorf("failed attempts after the server's fault = %d, want 0: the user is not to blame", n)
	}
	_, err = other.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, Code: codes[0]})
	wantCode(t, err, hmisauth.ETOTPWrong)
}

func TestSignInWithCodeAcceptsEachCodeOnce(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	c := code(t, secret, f.clock.Now())
	res, err := f.loginWith(u.Username, goodPassword, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || res.RecoveryCodeUsed {
		t.Errorf("result = %+v", res)
	}
	// The same code again, still within its 30 seconds: a replay.
	f.clock.Add(5 * time.Second)
	_, err = f.loginWith(u.Username, goodPassword, c)
	wantCode(t, err, hmisauth.ETOTPWrong)
}

func TestOneStepOfClockDriftIsAccepted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shift time.Duration // of the phone's clock against the server's
		ok    bool
	}{
		{"phone 30s slow", -30 * time.Second, true},
		{"phone 30s fast", 30 * time.Second, true},
		{"phone 90s slow", -90 * time.Second, false},
		{"phone 90s fast", 90 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			u, secret, _ := f.withTOTP("Ana", "Diaz")
			f.clock.Add(5 * time.Minute)
			_, err := f.loginWith(u.Username, goodPassword, code(t, secret, f.clock.Now().Add(tc.shift)))
			if (err == nil) != tc.ok {
				t.Errorf("sign-in: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestWrongCodesCountTowardTheLockout(t *testing.T) {
	f := newFixture(t) // threshold 3
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	for i, want := range []string{hmisauth.ETOTPWrong, hmisauth.ETOTPWrong, hmisauth.EAccountLocked} {
		_, err := f.loginWith(u.Username, goodPassword, "123456")
		if got := hmisauth.ErrorCode(err); got != want {
			t.Fatalf("wrong code %d: %q, want %q", i+1, got, want)
		}
	}
	_, err := f.loginWith(u.Username, goodPassword, code(t, secret, f.clock.Now()))
	wantCode(t, err, hmisauth.EAccountLocked)
	if !f.reload(u.Username).Locked() {
		t.Error("not locked")
	}
}

func TestRightPasswordWaitingForCodeCostsNoAttempt(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	// Two typos, then the right password: the code page must not be the third strike.
	f.attempt(u.Username, "wrong")
	f.attempt(u.Username, "wrong again")
	res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, SecondStep: true})
	if err != nil || res.Challenge == nil || res.Token != "" {
		t.Fatalf("login = %+v, %v; want a challenge", res, err)
	}
	if n := f.reload(u.Username).FailedAttempts; n != 2 {
		t.Errorf("failed attempts after the right password = %d, want 2", n)
	}
	if !res.Challenge.TOTP || res.Challenge.Passkeys || res.Challenge.RecoveryCodesLeft != 10 {
		t.Errorf("challenge = %+v", res.Challenge)
	}
	done, err := f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: res.Challenge.Token,
		Code: code(t, secret, f.clock.Now())})
	if err != nil || done.Token == "" {
		t.Fatalf("verify = %+v, %v", done, err)
	}
	if n := f.reload(u.Username).FailedAttempts; n != 0 {
		t.Errorf("failed attempts after signing in = %d, want 0", n)
	}
	// The challenge is spent.
	_, err = f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: res.Challenge.Token, Code: "123456"})
	wantCode(t, err, hmisauth.ESessionExpired)
}

func TestKnowingThePasswordDoesNotBuyMoreCodeGuesses(t *testing.T) {
	f := newFixture(t)
	u, _, _ := f.withTOTP("Ana", "Diaz")
	var last error
	for range 5 {
		res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, SecondStep: true})
		if err != nil {
			last = err
			break
		}
		_, last = f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: res.Challenge.Token, Code: "123456"})
	}
	wantCode(t, last, hmisauth.EAccountLocked)
	if n := f.reload(u.Username).FailedAttempts; n != 3 {
		t.Errorf("failed attempts = %d, want 3 (the threshold)", n)
	}
}

func TestChallengeExpires(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, SecondStep: true})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(6 * time.Minute)
	_, err = f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: res.Challenge.Token,
		Code: code(t, secret, f.clock.Now())})
	wantCode(t, err, hmisauth.ESessionExpired)
	_, err = f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "training", Token: res.Challenge.Token, Code: "123456"})
	wantCode(t, err, hmisauth.ESessionExpired)
}

func TestRecoveryCodesWorkOnceEach(t *testing.T) {
	f := newFixture(t)
	u, _, codes := f.withTOTP("Ana", "Diaz")
	res, err := f.loginWith(u.Username, goodPassword, strings.ToUpper(codes[3]))
	if err != nil {
		t.Fatal(err)
	}
	if !res.RecoveryCodeUsed || res.RecoveryCodesLeft != 9 {
		t.Errorf("used = %v, left = %d; want true, 9", res.RecoveryCodeUsed, res.RecoveryCodesLeft)
	}
	_, err = f.loginWith(u.Username, goodPassword, codes[3])
	wantCode(t, err, hmisauth.ETOTPWrong)
	// Typed without the hyphen, with spaces: still a code.
	res, err = f.loginWith(u.Username, goodPassword, " "+strings.ReplaceAll(codes[4], "-", " ")+" ")
	if err != nil || res.RecoveryCodesLeft != 8 {
		t.Fatalf("second code: %+v, %v", res, err)
	}
	// New codes replace the old ones.
	fresh, err := f.svc.NewRecoveryCodes(f.ctx, res.Principal)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.loginWith(u.Username, goodPassword, codes[5])
	wantCode(t, err, hmisauth.ETOTPWrong)
	if slices.Contains(fresh, codes[5]) {
		t.Error("new codes repeat an old one")
	}
	f.clock.Add(time.Second)
	if _, err := f.loginWith(u.Username, goodPassword, fresh[0]); err != nil {
		t.Errorf("a new code: %v", err)
	}
}

func TestRememberedDeviceSkipsTheCodeUntilThePasswordChanges(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	start := func() *auth.Challenge {
		t.Helper()
		res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, SecondStep: true})
		if err != nil || res.Challenge == nil {
			t.Fatalf("login: %+v, %v", res, err)
		}
		return res.Challenge
	}
	res, err := f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: start().Token,
		Code: code(t, secret, f.clock.Now()), Remember: true, UserAgent: "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.DeviceToken == "" || !res.DeviceExpiresAt.Equal(f.clock.Now().AddDate(0, 0, 30)) {
		t.Fatalf("device = %q until %v", res.DeviceToken, res.DeviceExpiresAt)
	}
	device := res.DeviceToken
	remembered := func() (*auth.LoginResult, error) {
		return f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword,
			DeviceToken: device, SecondStep: true})
	}
	if res, err := remembered(); err != nil || res.Token == "" || !res.DeviceRemembered {
		t.Fatalf("remembered device: %+v, %v", res, err)
	}
	// The helpdesk can tell from the audit log that the code was not asked.
	if evs := f.events(); evs[len(evs)-1].Action != hmisauth.EventLoginSucceeded ||
		!strings.Contains(evs[len(evs)-1].Detail, "remembered device") {
		t.Errorf("last event = %+v", evs[len(evs)-1])
	}
	// Bound to the user: another account with its own 2-step verification is still asked.
	other, _, _ := f.withTOTP("Ben", "Cole")
	if res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: other.Username, Password: goodPassword,
		DeviceToken: device, SecondStep: true}); err != nil || res.Challenge == nil {
		t.Errorf("another user with the same device cookie: %+v, %v", res, err)
	}
	// Expires after remember_device_days.
	f.clock.Add(31 * 24 * time.Hour)
	if res, err := remembered(); err != nil || res.Challenge == nil {
		t.Errorf("after 31 days: %+v, %v; want the code asked", res, err)
	}
	res, err = f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: start().Token,
		Code: code(t, secret, f.clock.Now()), Remember: true})
	if err != nil {
		t.Fatal(err)
	}
	device = res.DeviceToken
	if res, err := remembered(); err != nil || res.Token == "" {
		t.Fatalf("remembered again: %+v, %v", res, err)
	}
	// A password change forgets every remembered device.
	const newPassword = "Lantern-Meadow-58?"
	if err := f.svc.ChangePassword(f.ctx, res.Principal, auth.PasswordChangeRequest{Current: goodPassword, New: newPassword, Confirm: newPassword}); err != nil {
		t.Fatal(err)
	}
	if res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: newPassword,
		DeviceToken: device, SecondStep: true}); err != nil || res.Challenge == nil {
		t.Errorf("after a password change: %+v, %v; want the code asked", res, err)
	}
}

func TestNoRememberingWhenTheSiteSaysZeroDays(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.MFA.RememberDeviceDays = 0 })
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, SecondStep: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Challenge.RememberDays != 0 {
		t.Errorf("offered %d days", res.Challenge.RememberDays)
	}
	done, err := f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: res.Challenge.Token,
		Code: code(t, secret, f.clock.Now()), Remember: true})
	if err != nil || done.DeviceToken != "" {
		t.Errorf("verify: device %q, %v", done.DeviceToken, err)
	}
}

func TestMFARequiredTurnsEnrolmentIntoARequiredAction(t *testing.T) {
	for _, tc := range []struct {
		policy, role string
		want         bool
	}{
		{"none", "sysadmin", false},
		{"admins", "user", false},
		{"admins", "agency_admin", true},
		{"admins", "sysadmin", true},
		{"everyone", "user", true},
	} {
		t.Run(tc.policy+"/"+tc.role, func(t *testing.T) {
			f := newFixture(t, func(s *hmisauth.Site) { s.Policy.MFA.Required = tc.policy })
			agency := ""
			if tc.role == "agency_admin" {
				f.addAgency("Hope Shelter", 0)
				agency = "Hope Shelter"
			}
			p := f.signedInAs("Ana", "Diaz", tc.role, agency)
			if got := p.NextAction() == hmisauth.ActionSetupMFA; got != tc.want {
				t.Fatalf("required actions = %v, want setup_mfa: %v", actionNames(p), tc.want)
			}
			if !tc.want {
				return
			}
			// Nothing else opens, and setting up needs no re-authentication, even much later.
			wantCode(t, f.svc.UpdateContact(f.ctx, p, auth.ContactChange{}), hmisauth.EActionRequired)
			f.clock.Add(20 * time.Minute)
			e, err := f.svc.StartTOTP(f.ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ConfirmTOTP(f.ctx, p, code(t, e.Secret, f.clock.Now())); err != nil {
				t.Fatal(err)
			}
			if len(p.RequiredActions) != 0 {
				t.Errorf("required actions after enrolment = %v", actionNames(p))
			}
			// The site requires it: it cannot be turned off.
			f.clock.Add(-19 * time.Minute)
			wantCode(t, f.svc.DisableTOTP(f.ctx, p), hmisauth.EFORBIDDEN)
		})
	}
}

func TestSecuritySettingsCloseAfterTheReauthWindow(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	res := f.login(u.Username, goodPassword)
	p := res.Principal
	// The password was just typed to sign in: open for session.reauth (5 minutes).
	f.clock.Add(4*time.Minute + 59*time.Second)
	if _, err := f.svc.StartTOTP(f.ctx, p); err != nil {
		t.Fatalf("within the window: %v", err)
	}
	f.clock.Add(time.Second)
	_, err := f.svc.StartTOTP(f.ctx, p)
	wantCode(t, err, hmisauth.EReauthRequired)
	wantCode(t, f.svc.SetRecovery(f.ctx, p, auth.Recovery{Question: "What was my first school?", Answer: "Lincoln"}), hmisauth.EReauthRequired)

	_, err = f.svc.Reauthenticate(f.ctx, p, "wrong", true)
	wantCode(t, err, hmisauth.ECurrentPasswordWrong)
	if n := f.reload(u.Username).FailedAttempts; n != 1 {
		t.Errorf("failed attempts after a wrong re-authentication = %d, want 1", n)
	}
	token, err := f.svc.Reauthenticate(f.ctx, p, goodPassword, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.reload(u.Username).FailedAttempts; n != 1 {
		t.Errorf("failed attempts after the right one = %d, want 1 (a right password clears nothing)", n)
	}
	// A new token; the old one stops working.
	if token == "" || token == res.Token {
		t.Fatalf("token after re-authentication = %q", token)
	}
	if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); hmisauth.ErrorCode(err) != hmisauth.EUnauthorized {
		t.Errorf("old token: %v", err)
	}
	p2, err := f.svc.Authenticate(f.ctx, "live", token)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.ReauthFresh(f.clock.Now()) {
		t.Error("not fresh after re-authentication")
	}
	if _, err := f.svc.StartTOTP(f.ctx, p2); err != nil {
		t.Errorf("after re-authentication: %v", err)
	}
}

// The session that guessed its way to the lock ends; the user's other sessions stay, as for
// any lock.
func TestWrongReauthPasswordsLockAndEndTheGuessingSession(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	other := f.login(u.Username, goodPassword)
	res := f.login(u.Username, goodPassword)
	var err error
	for range 3 {
		_, err = f.svc.Reauthenticate(f.ctx, res.Principal, "guess", false)
	}
	wantCode(t, err, hmisauth.EAccountLocked)
	_, err = f.svc.Authenticate(f.ctx, "live", res.Token)
	if auth.SessionEndReason(err) != hmisauth.EndedLocked {
		t.Errorf("session after the lock: %v", err)
	}
	if _, err := f.svc.Authenticate(f.ctx, "live", other.Token); err != nil {
		t.Errorf("the other session after the lock: %v", err)
	}
}

func TestDisablingTheAppTurnsSignInBackToPasswordOnly(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	res, err := f.loginWith(u.Username, goodPassword, code(t, secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DisableTOTP(f.ctx, res.Principal); err != nil {
		t.Fatal(err)
	}
	if res.Principal.User.MFAEnabled || f.reload(u.Username).MFAEnabled {
		t.Error("still on")
	}
	if _, err := f.loginWith(u.Username, goodPassword, ""); err != nil {
		t.Errorf("password alone: %v", err)
	}
	fs, err := f.store.SecondFactors(f.ctx, u.ID)
	if err != nil || fs.TOTP != nil || fs.RecoveryCodesLeft != 0 {
		t.Errorf("factors after disabling = %+v, %v", fs, err)
	}
}

func TestTurningOnTheAppEndsOtherSessions(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	other := f.login(u.Username, goodPassword)
	p := f.login(u.Username, goodPassword).Principal
	e := f.startTOTP(p)
	if _, err := f.svc.ConfirmTOTP(f.ctx, p, code(t, e.Secret, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(f.ctx, "live", other.Token)
	if auth.SessionEndReason(err) != hmisauth.EndedMFAChanged {
		t.Errorf("the other session: %v", err)
	}
}

func TestHelpdeskResetsMFAAndTheUserSignsInWithThePassword(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	held, err := f.loginWith(u.Username, goodPassword, code(t, secret, f.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	admin := f.adminOf(f.signedInAs("Sam", "Admin", "sysadmin", ""))
	if _, err := admin.ResetMFA(f.ctx, u.Username); err != nil {
		t.Fatal(err)
	}
	if f.reload(u.Username).MFAEnabled {
		t.Error("still on after the reset")
	}
	_, err = f.svc.Authenticate(f.ctx, "live", held.Token)
	if auth.SessionEndReason(err) != hmisauth.EndedByHelpdesk {
		t.Errorf("session after the reset: %v", err)
	}
	res, err := f.loginWith(u.Username, goodPassword, "")
	if err != nil || res.Token == "" {
		t.Fatalf("password alone after the reset: %+v, %v", res, err)
	}
	evs := f.events()
	last := evs[len(evs)-2] // before the sign-in
	if last.Action != hmisauth.EventMFAReset || last.Subject != u.Username || last.Actor == "" {
		t.Errorf("audit = %+v", last)
	}
}
