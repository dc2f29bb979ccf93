package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// maxPasswordBytes bounds what we hash; no policy allows longer passwords.
const maxPasswordBytes = 4096

// LoginRequest is one sign-in attempt.
type LoginRequest struct {
	Site       string
	Username   string
	Password   string
	ClientAddr string
	UserAgent  string
	// Code is the 2-step verification code sent with the password (the API's totp_code): an
	// authenticator-app code or a recovery code.
	Code string
	// DeviceToken is the remembered-device cookie, if the browser has one.
	DeviceToken string
	// SecondStep asks, when 2-step verification is due and no Code came, for a challenge to
	// continue on a second page (the web) instead of the totp_required error (the API).
	SecondStep bool
}

// LoginResult is a successful sign-in: the session token (given to the client once, stored
// only as a hash) and what the user must do before the session opens anything else. Or, when
// the password was right but a second step is due, only Challenge.
type LoginResult struct {
	Token     string
	Principal *Principal
	// Challenge continues a sign-in that waits for its second step (see VerifyLogin).
	Challenge *Challenge
	// DeviceToken, when set, is a new remembered-device cookie valid until DeviceExpiresAt.
	DeviceToken     string
	DeviceExpiresAt time.Time
	// RecoveryCodeUsed says the second step was a recovery code; RecoveryCodesLeft how many
	// remain. DeviceRemembered says it was skipped for a remembered device.
	RecoveryCodeUsed  bool
	RecoveryCodesLeft int
	DeviceRemembered  bool
	// factor is the second step's method for the session's AMR: "otp" (app or recovery
	// code), "hwk" or "swk" (a passkey); "" for none.
	factor string
}

// login checks a username and password against the site's rules.
//
// The order of steps is the security design:
//  1. a hashing slot is taken first, so an overloaded server answers "busy" (503) without
//     counting the attempt against the account;
//  2. the attempt is counted in one atomic store step before the password is checked,
//     whether or not the username exists; a locked account is refused here, without a hash;
//  3. exactly one hash runs, against the user's hash or a dummy one for unknown usernames, so
//     time does not tell an outsider whether the username exists;
//  4. only a full success clears the count. Wrong password, unknown user, disabled account,
//     expired license or agreement and inactivity all answer "Login failed!" and stay
//     counted, so no answer pattern reveals which of them applied;
//  5. with 2-step verification on (and no remembered device), the code sent along is checked
//     (a wrong one stays counted); without one the attempt is given back and the answer is
//     totp_required, or a Challenge for the web's second page (VerifyLogin).
//
// Before all that, the attempt is counted against the client address's rate limits
// (ratelimit.go), so an address over them is refused without taking a hashing slot; it is
// given back when the sign-in succeeds or was no guess.
func (s *Service) login(ctx context.Context, req LoginRequest) (_ *LoginResult, err error) {
	site, err := s.Site(req.Site)
	if err != nil {
		return nil, err
	}
	if err := validateCredentials(req.Username, req.Password); err != nil {
		return nil, err
	}
	lim, err := s.reserveSignIn(ctx, site, req.ClientAddr, req.Username)
	if err != nil {
		return nil, err
	}
	defer func() { s.settle(ctx, lim, err) }()
	slot, err := s.hasher.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer slot.Release()

	now := s.clock.Now()
	key := hmisauth.UsernameKey(req.Username)
	lockout := site.Policy.Lockout
	// The one signing in is a visitor until they succeed; the subject is the name they typed.
	ctx = WithActor(ctx, Actor{ClientAddr: req.ClientAddr})
	typed := strings.TrimSpace(req.Username)
	if lockout.AutoUnlockAfter > 0 {
		if _, err := s.store.AutoUnlock(ctx, site.Key, key, now.Add(-lockout.AutoUnlockAfter)); err != nil {
			return nil, err
		}
	}
	attempt, err := s.store.ReserveLoginAttempt(ctx, site.Key, key, lockout.Threshold, now)
	if err != nil {
		return nil, err
	}
	if !attempt.Allowed {
		s.refusedLocked(ctx, site, typed, req.ClientAddr)
		return nil, lockedError(site)
	}
	// failed ends an attempt that stays counted: the one that reached the threshold says so.
	// The lock stops new sign-ins only: sessions already open stay, so whoever types wrong
	// passwords for a username cannot throw its owner out mid-intake.
	failed := func(reason string) error {
		s.log.InfoContext(ctx, "login failed", "site", site.Key, "username", key, "reason", reason,
			"attempt", attempt.Count, "client", req.ClientAddr)
		evs := []*hmisauth.Event{s.newEvent(ctx, site, hmisauth.EventLoginFailed, typed, reason)}
		if attempt.Count >= lockout.Threshold {
			evs = append(evs, s.newEvent(ctx, site, hmisauth.EventAccountLocked, typed,
				fmt.Sprintf("locked after %d failed attempts", attempt.Count)))
			s.record(ctx, evs...)
			return lockedError(site)
		}
		s.record(ctx, evs...)
		return loginFailed(site, attempt)
	}

	u, err := s.store.User(ctx, site.Key, req.Username)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		if err := slot.VerifyDummy(req.Password); err != nil {
			return nil, err
		}
		return nil, failed("unknown_user")
	} else if err != nil {
		return nil, err
	}
	ok, rehash, err := slot.Verify(req.Password, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, failed("wrong_password")
	}
	if reason, err := s.blockedReason(ctx, site, u, now); err != nil {
		return nil, err
	} else if reason != "" {
		return nil, failed(reason)
	}
	if rehash {
		if h, err := slot.Hash(req.Password); err == nil {
			if err := s.store.RehashPassword(ctx, u.ID, u.PasswordHash, h); err != nil {
				s.log.WarnContext(ctx, "rehash failed", "user", u.ID, "err", err)
			}
		}
	}
	slot.Release()

	res := &LoginResult{}
	if u.MFAEnabled {
		remembered, err := s.deviceRemembered(ctx, u, req.DeviceToken, now)
		if err != nil {
			return nil, err
		}
		switch {
		case remembered:
			res.DeviceRemembered = true
		case req.Code == "":
			// The password was right: this attempt is given back, so that a second page does
			// not cost the user an attempt. Earlier failures stay counted.
			if err := s.store.ReleaseLoginAttempt(ctx, site.Key, key, attempt); err != nil {
				return nil, err
			}
			if !req.SecondStep {
				return nil, &hmisauth.Error{Code: hmisauth.ETOTPRequired, Field: "totp_code",
					Message: "Enter the 6-digit code from your authenticator app, or a recovery code."}
			}
			c, err := s.newChallenge(ctx, site, u, now, req.ClientAddr, req.UserAgent)
			if err != nil {
				return nil, err
			}
			return &LoginResult{Challenge: c}, nil
		default:
			f, err := s.store.SecondFactors(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			res.factor = "otp"
			recovery, left, err := s.checkCode(ctx, u, f, req.Code, now)
			if hmisauth.ErrorCode(err) == hmisauth.ETOTPWrong {
				if lockErr := s.countFailure(ctx, site, u, attempt, hmisauth.EventLoginFailed, "wrong 2-step code"); lockErr != nil {
					return nil, lockErr
				}
				return nil, err
			} else if err != nil {
				return nil, s.notAGuess(ctx, site, u, attempt, err)
			}
			res.RecoveryCodeUsed, res.RecoveryCodesLeft = recovery, left
		}
	}
	if err := s.finishLogin(ctx, site, u, now, req.ClientAddr, req.UserAgent, res); err != nil {
		return nil, err
	}
	return res, nil
}

// finishLogin completes a sign-in whose every step has passed: it spends a temporary
// password, clears the failure count and opens the session, filling res.
func (s *Service) finishLogin(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time, addr, agent string, res *LoginResult) error {
	if u.PasswordTemporary {
		if err := s.useTemporaryPassword(ctx, site, u, now); err != nil {
			s.log.InfoContext(ctx, "login refused", "site", site.Key, "username", u.Username, "reason", hmisauth.ErrorCode(err))
			s.record(ctx, s.newEvent(ctx, site, hmisauth.EventLoginFailed, u.Username, hmisauth.ErrorCode(err)))
			return err
		}
	}
	detail := ""
	switch {
	case res.RecoveryCodeUsed:
		detail = fmt.Sprintf("with a recovery code, %d left", res.RecoveryCodesLeft)
	case res.DeviceRemembered:
		detail = "2-step verification skipped: remembered device"
	case u.MFAEnabled:
		detail = "with 2-step verification"
	}
	if err := s.store.LoginSucceeded(s.audit(ctx, site, hmisauth.EventLoginSucceeded, u.Username, detail), u.ID, now); err != nil {
		return err
	}
	amr := []string{"pwd"}
	if res.factor != "" {
		amr = append(amr, res.factor, "mfa")
	}
	token, sess, err := s.newSession(ctx, site, u, now, addr, agent, amr)
	if err != nil {
		return err
	}
	u.LastLoginAt = now
	s.log.InfoContext(ctx, "login", "site", site.Key, "username", u.Username, "session", sess.ID, "client", addr)
	res.Token, res.Principal = token, s.principal(site, u, sess, now)
	return nil
}

func validateCredentials(username, password string) error {
	switch {
	case username == "":
		return hmisauth.FieldError("username", "Enter your username.")
	case utf8.RuneCountInString(username) > MaxUsernameLength:
		return hmisauth.FieldError("username", "That is longer than any username. Check what you typed.")
	case password == "":
		return hmisauth.FieldError("password", "Enter your password.")
	case len(password) > maxPasswordBytes:
		return hmisauth.FieldError("password", "That is longer than any password. Check what you typed.")
	}
	return nil
}

// Blocked says why the user may not sign in now, in the words of the log ("" when nothing
// blocks): disabled, inactive, an expired agreement or agency license, or a required training
// missing or lapsed. An application
// gets no code, and no refreshed token, for such a user, even from a session opened before. A
// lock is not among the reasons: it stops new sign-ins, not the sessions already open.
func (s *Service) Blocked(ctx context.Context, site *hmisauth.Site, u *hmisauth.User) (string, error) {
	return s.blockedReason(ctx, site, u, s.clock.Now())
}

// blockedReason says why a user with the right password may still not sign in, in the words
// of the log; "" when nothing blocks. The user is only ever told "Login failed!".
func (s *Service) blockedReason(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time) (string, error) {
	today := site.Today(now)
	if u.Disabled {
		return hmisauth.ProblemDisabled, nil
	}
	if code, err := s.inactivityBlock(ctx, site, u, now); code != "" || err != nil {
		return code, err
	}
	if !u.AgreementExpiresOn.IsZero() && u.AgreementExpiresOn.Before(today) {
		return hmisauth.ProblemAgreementExpired, nil
	}
	if u.AgencyID != 0 {
		a, err := s.store.Agency(ctx, site.Key, u.AgencyID)
		if err != nil {
			return "", err
		}
		if a.LicenseExpired(today) {
			return hmisauth.ProblemLicenseExpired, nil
		}
	}
	return s.trainingBlock(ctx, site, u, today)
}

// useTemporaryPassword lets a temporary password through once, within its lifetime. The
// person knows the password here, so they are told plainly what to do instead.
func (s *Service) useTemporaryPassword(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time) error {
	if !u.TemporaryUsedAt.IsZero() {
		return temporaryUsed(site)
	}
	if now.After(u.PasswordChangedAt.Add(site.Policy.TemporaryPasswordTTL)) {
		return hmisauth.Errorf(hmisauth.ETemporaryExpired,
			"This temporary password has expired. Contact the helpdesk at %s for a new one.", site.Helpdesk.Contact())
	}
	first, err := s.store.UseTemporaryPassword(ctx, u.ID, now)
	if err != nil {
		return err
	}
	if !first {
		return temporaryUsed(site)
	}
	return nil
}

func temporaryUsed(site *hmisauth.Site) error {
	return hmisauth.Errorf(hmisauth.ETemporaryUsed,
		"This temporary password has already been used once and cannot be used again. Use \"Forgot password\" or contact the helpdesk at %s.",
		site.Helpdesk.Contact())
}
