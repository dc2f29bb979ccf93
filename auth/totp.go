package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"image/png"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// Authenticator-app codes (RFC 6238): 6 digits, a new one every 30 seconds, with one step of
// clock drift either way accepted (a phone a little fast or slow).
const (
	totpPeriod = 30
	totpDrift  = 1
	// RecoveryCodeCount is how many one-time recovery codes a user gets at a time.
	RecoveryCodeCount = 10
	recoveryCodeLen   = 10
	// recoveryAlphabet is the readable alphabet of temporary passwords, without capitals (codes
	// are typed in any case): no 0/o, no 1/l/i. Codes made before it was shared were drawn from
	// these same characters, so they verify as they always did.
	recoveryAlphabet = password.ReadableDigits + password.ReadableLower
	qrSize           = 240
)

// TOTPEnrolment is an authenticator-app secret being set up: typed as Secret, or scanned from
// the QR code (a PNG of URL, drawn here: no outside service ever sees the secret).
type TOTPEnrolment struct {
	Secret string
	URL    string // otpauth://totp/…
	QRCode []byte // PNG
}

func totpPurpose(userID int64) string { return "totp:" + strconv.FormatInt(userID, 10) }

func recoveryPurpose(userID int64) string { return "recovery-code:" + strconv.FormatInt(userID, 10) }

// MFARequired reports whether the site's mfa.required applies to the user.
func MFARequired(site *hmisauth.Site, u *hmisauth.User) bool {
	switch site.Policy.MFA.Required {
	case "everyone":
		return true
	case "admins":
		return u.Role.IsAdmin()
	}
	return false
}

// SecondFactors returns what the signed-in user has set up for 2-step verification.
func (s *Service) SecondFactors(ctx context.Context, p *Principal) (*hmisauth.SecondFactors, error) {
	return s.store.SecondFactors(ctx, p.User.ID)
}

// StartTOTP begins setting up an authenticator app: a new secret, kept pending until a first
// code confirms it (an app already in use keeps working until then).
func (s *Service) StartTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error) {
	if err := s.requireReauth(p, hmisauth.ActionSetupMFA); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: p.Site.Name, AccountName: p.User.Username,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	sealed := s.keys.Seal([]byte(key.Secret()), totpPurpose(p.User.ID))
	if err := s.store.StartTOTP(ctx, p.User.ID, sealed, s.clock.Now()); err != nil {
		return nil, err
	}
	return enrolment(key)
}

// PendingTOTP shows the enrolment begun by StartTOTP again (the page after a mistyped first
// code); ENOTFOUND when there is none.
func (s *Service) PendingTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error) {
	if err := s.requireReauth(p, hmisauth.ActionSetupMFA); err != nil {
		return nil, err
	}
	_, secret, err := s.pendingSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: p.Site.Name, AccountName: p.User.Username,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: decodeSecret(string(secret))})
	if err != nil {
		return nil, err
	}
	return enrolment(key)
}

// secretUnreadable is what a user hears when their authenticator secret does not open with the
// server's key (the key was lost or changed): not their fault, and the helpdesk can fix it.
func (s *Service) secretUnreadable(u *hmisauth.User) error {
	contact := "your HMIS helpdesk"
	if site, err := s.Site(u.Site); err == nil {
		contact = "the helpdesk at " + site.Helpdesk.Contact()
	}
	// Recovery codes are keyed by the same server key, so they cannot help either.
	return &hmisauth.Error{Code: hmisauth.EMFAUnavailable, Message: "Your authenticator app's codes cannot be checked " +
		"because of a problem on the server, not anything you did. Contact " + contact +
		": they can reset 2-step verification so you can sign in."}
}

// pendingSecret is the enrolment waiting for its first code: as stored, and opened.
func (s *Service) pendingSecret(ctx context.Context, p *Principal) (sealed, secret []byte, err error) {
	f, err := s.store.SecondFactors(ctx, p.User.ID)
	if err != nil {
		return nil, nil, err
	}
	if f.TOTP == nil || f.TOTP.Pending == nil {
		return nil, nil, noEnrolment()
	}
	secret, err = s.keys.Open(f.TOTP.Pending, totpPurpose(p.User.ID))
	if err != nil {
		// Sealed under another server key: that set-up is lost, a new one works.
		s.log.WarnContext(ctx, "pending authenticator secret does not open", "username", p.User.Username, "err", err)
		return nil, nil, noEnrolment()
	}
	return f.TOTP.Pending, secret, nil
}

func noEnrolment() error {
	return hmisauth.Errorf(hmisauth.ENOTFOUND, "Start setting up the authenticator app again: the code shown before is no longer waiting.")
}

func enrolment(key *otp.Key) (*TOTPEnrolment, error) {
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRCode: buf.Bytes()}, nil
}

// ConfirmTOTP turns the pending authenticator app on with its first code and returns the new
// recovery codes, to be shown once: only their keyed hashes are kept. The user's other
// sessions end (they were opened with the password alone).
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, error) {
	if err := s.requireReauth(p, hmisauth.ActionSetupMFA); err != nil {
		return nil, err
	}
	code = normalizeCode(code)
	if code == "" {
		return nil, hmisauth.FieldError("code", "Enter the 6-digit code your authenticator app shows.")
	}
	sealed, secret, err := s.pendingSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	step, ok := matchTOTP(string(secret), code, now, -1)
	if !ok {
		return nil, &hmisauth.Error{Code: hmisauth.ETOTPWrong, Field: "code",
			Message: "That code is not right. Check the phone's time is set automatically, wait for the next code and type it."}
	}
	codes, hashes := s.newRecoveryCodes(p.User.ID)
	notice, err := s.mfaChangedNotice(p.Site, p.User, hmisauth.MFAChangeAppOn, "", now, p.Session.ClientAddr)
	if err != nil {
		return nil, err
	}
	if err := s.store.ConfirmTOTP(s.auditAs(ctx, p, hmisauth.EventTOTPEnabled, ""), p.User.ID, sealed, step, now, hashes, notice); err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return nil, noEnrolment()
		}
		return nil, err
	}
	if notice != nil {
		s.kick()
	}
	count := s.countEnded(ctx, p.Site.Key, p.User.ID, p.Session.ID, hmisauth.EndedMFAChanged)
	err = s.store.DeleteUserSessions(ctx, p.User.ID, p.Session.ID, hmisauth.EndedMFAChanged, s.clock.Now())
	count(err)
	if err != nil {
		return nil, err
	}
	p.User.MFAEnabled = true
	p.RequiredActions = RequiredActions(p.Site, p.User, now)
	s.log.InfoContext(ctx, "authenticator app on", "site", p.Site.Key, "username", p.User.Username)
	return codes, nil
}

// DisableTOTP turns the authenticator app off. A site that requires 2-step verification of
// this user keeps it on unless a passkey remains: set up the app again to move to a new phone.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal) error {
	if err := s.requireReauth(p, ""); err != nil {
		return err
	}
	f, err := s.store.SecondFactors(ctx, p.User.ID)
	if err != nil {
		return err
	}
	if !f.TOTP.Confirmed() {
		return hmisauth.Errorf(hmisauth.ENOTFOUND, "You have no authenticator app set up.")
	}
	required := MFARequired(p.Site, p.User)
	lastFactor := func() error {
		return hmisauth.Errorf(hmisauth.EFORBIDDEN,
			"%s requires 2-step verification for your account, so it cannot be turned off. To use a new phone, set up the authenticator app again.", p.Site.Name)
	}
	if required && len(f.Passkeys) == 0 {
		return lastFactor()
	}
	now := s.clock.Now()
	notice, err := s.mfaChangedNotice(p.Site, p.User, hmisauth.MFAChangeAppOff, "", now, p.Session.ClientAddr)
	if err != nil {
		return err
	}
	// The store checks again in its transaction that a passkey remains (a parallel removal).
	if err := s.store.DisableTOTP(s.auditAs(ctx, p, hmisauth.EventTOTPDisabled, ""), p.User.ID, required, notice); err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.EFORBIDDEN {
			return lastFactor()
		}
		return err
	}
	if notice != nil {
		s.kick()
	}
	p.User.MFAEnabled = len(f.Passkeys) > 0
	p.RequiredActions = RequiredActions(p.Site, p.User, now)
	s.log.InfoContext(ctx, "authenticator app off", "site", p.Site.Key, "username", p.User.Username)
	return nil
}

// NewRecoveryCodes replaces the user's recovery codes with new ones, returned once.
func (s *Service) NewRecoveryCodes(ctx context.Context, p *Principal) ([]string, error) {
	if err := s.requireReauth(p, ""); err != nil {
		return nil, err
	}
	if !p.User.MFAEnabled {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "Recovery codes go with 2-step verification: turn it on first.")
	}
	codes, hashes := s.newRecoveryCodes(p.User.ID)
	now := s.clock.Now()
	notice, err := s.mfaChangedNotice(p.Site, p.User, hmisauth.MFAChangeRecoveryCodes, "", now, p.Session.ClientAddr)
	if err != nil {
		return nil, err
	}
	ctx = s.auditAs(ctx, p, hmisauth.EventRecoveryCodesNew, "")
	if err := s.store.ReplaceRecoveryCodes(ctx, p.User.ID, hashes, now, notice); err != nil {
		return nil, err
	}
	if notice != nil {
		s.kick()
	}
	return codes, nil
}

// mfaChangedNotice is the e-mail telling the user their 2-step verification changed, nil when
// there is no address to send it to: change is one of the hmisauth.MFAChange* kinds, passkey
// the name of the passkey added or removed, from where the change came from ("" when the
// helpdesk made it). A takeover that adds its own factor or removes the user's is thus heard of.
func (s *Service) mfaChangedNotice(site *hmisauth.Site, u *hmisauth.User, change, passkey string, at time.Time, from string) (*hmisauth.Message, error) {
	if u.Email == "" {
		return nil, nil
	}
	return s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailMFAChanged, Site: site, To: u.Email,
		User: u, At: at, ClientAddr: from, MFAChange: change, PasskeyName: passkey})
}

// newRecoveryCodes makes a set of recovery codes, shown as "abcde-fghjk", and their hashes.
func (s *Service) newRecoveryCodes(userID int64) (codes []string, hashes [][]byte) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryCodeLen)
		for i := range b {
			b[i] = recoveryAlphabet[randIndex(len(recoveryAlphabet))]
		}
		code := string(b)
		codes = append(codes, code[:5]+"-"+code[5:])
		hashes = append(hashes, s.keys.Hash(recoveryPurpose(userID), b))
	}
	return codes, hashes
}

// randIndex is a uniform random number in [0, n), n < 256.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// normalizeCode drops what people type around and inside a code: white space (a pasted line
// break included), hyphens and other dashes (a word processor's en dash), capitals.
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

// isTOTPCode reports whether a normalized code looks like an app's code (else a recovery code).
func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matchTOTP finds the time step, newer than after, within the drift of now whose code is code.
// Every candidate is computed and compared in constant time, whichever matches.
func matchTOTP(secret, code string, now time.Time, after int64) (int64, bool) {
	if !isTOTPCode(code) {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	var found int64
	ok := false
	for step := current - totpDrift; step <= current+totpDrift; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > after && !ok {
			found, ok = step, true
		}
	}
	return found, ok
}

// decodeSecret turns an otp base32 secret back into the bytes totp.Generate takes.
func decodeSecret(secret string) []byte {
	b, err := otpBase32.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return nil
	}
	return b
}

// checkCode verifies a second-step code at sign-in against the user's factors f: an
// authenticator-app code (once only), or else a recovery code (once only). It reports whether
// a recovery code was used and how many are left. A wrong code is ETOTPWrong; the caller
// counts it toward the lockout.
func (s *Service) checkCode(ctx context.Context, u *hmisauth.User, f *hmisauth.SecondFactors, code string, now time.Time) (recovery bool, left int, err error) {
	code = normalizeCode(code)
	if isTOTPCode(code) {
		if !f.TOTP.Confirmed() {
			return false, 0, wrongCode()
		}
		secret, err := s.keys.Open(f.TOTP.Secret, totpPurpose(u.ID))
		if err != nil {
			s.log.ErrorContext(ctx, "authenticator secret does not open: is the server key the one it was sealed with?",
				"site", u.Site, "username", u.Username, "err", err)
			return false, 0, s.secretUnreadable(u)
		}
		step, ok := matchTOTP(string(secret), code, now, f.TOTP.LastStep)
		if !ok {
			return false, 0, wrongCode()
		}
		if ok, err = s.store.UseTOTPStep(ctx, u.ID, step); err != nil {
			return false, 0, err
		} else if !ok {
			return false, 0, wrongCode()
		}
		return false, f.RecoveryCodesLeft, nil
	}
	if len(code) != recoveryCodeLen {
		return false, 0, wrongCode()
	}
	ok, left, err := s.store.UseRecoveryCode(ctx, u.ID, s.keys.Hash(recoveryPurpose(u.ID), []byte(code)), now)
	if err != nil {
		return false, 0, err
	}
	if !ok {
		return false, 0, wrongCode()
	}
	return true, left, nil
}

func wrongCode() error {
	return &hmisauth.Error{Code: hmisauth.ETOTPWrong, Field: "code",
		Message: "That code is not right, or it was used already. Wait for the next code in your authenticator app and type it, or use one of your recovery codes."}
}

var otpBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)
