package auth

import (
	"context"
	"time"

	"github.com/hmisauth/hmisauth"
)

// challengeTTL is how long a right password waits for its second step.
const challengeTTL = 5 * time.Minute

// Challenge is a sign-in waiting for its second step: Token goes in a short-lived cookie of
// the browser that typed the password, and what the user can answer with is said here.
type Challenge struct {
	Token     string
	ExpiresAt time.Time
	Site      *hmisauth.Site
	Username  string
	TOTP      bool // an authenticator app is set up
	Passkeys  bool // at least one passkey is registered
	// RecoveryCodesLeft counts the recovery codes still unused.
	RecoveryCodesLeft int
	// RememberDays is how long "remember this device" lasts (0: the site does not offer it).
	RememberDays int

	id      int64
	user    *hmisauth.User
	row     *hmisauth.LoginChallenge
	factors *hmisauth.SecondFactors // as read for this step: the factor checks use them
}

func (s *Service) newChallenge(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time, addr, agent string) (*Challenge, error) {
	token, hash := newToken()
	c := &hmisauth.LoginChallenge{Site: site.Key, UserID: u.ID, TokenHash: hash, CreatedAt: now,
		ExpiresAt: now.Add(challengeTTL), ClientAddr: addr, UserAgent: truncate(agent, 256)}
	if err := s.store.CreateLoginChallenge(ctx, c); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "login waits for second step", "site", site.Key, "username", u.Username, "client", addr)
	return s.describeChallenge(ctx, site, u, c, token)
}

func (s *Service) describeChallenge(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, c *hmisauth.LoginChallenge, token string) (*Challenge, error) {
	f, err := s.store.SecondFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &Challenge{Token: token, ExpiresAt: c.ExpiresAt, Site: site, Username: u.Username,
		TOTP: f.TOTP.Confirmed(), Passkeys: len(f.Passkeys) > 0, RecoveryCodesLeft: f.RecoveryCodesLeft,
		RememberDays: site.Policy.MFA.RememberDeviceDays, id: c.ID, user: u, row: c, factors: f}, nil
}

// challengeGone is the answer for a second step whose challenge expired or was used.
func challengeGone() error {
	return &hmisauth.Error{Code: hmisauth.ESessionExpired,
		Message: "Your sign-in waited too long for the code. Please enter your username and password again."}
}

// LoadChallenge finds the sign-in waiting for its second step under token on the site.
func (s *Service) LoadChallenge(ctx context.Context, siteKey, token string) (*Challenge, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	if token == "" || len(token) > 128 {
		return nil, challengeGone()
	}
	c, err := s.store.LoginChallenge(ctx, HashToken(token), s.clock.Now())
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND || (err == nil && c.Site != site.Key) {
		return nil, challengeGone()
	} else if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	return s.describeChallenge(ctx, site, u, c, token)
}

// SecondStepRequest answers a Challenge with a code (authenticator app or recovery code).
type SecondStepRequest struct {
	Site       string
	Token      string // the challenge's
	Code       string
	Remember   bool // remember this device for the site's remember_device_days
	ClientAddr string
	UserAgent  string
}

// verifyLogin completes a sign-in with its second step. Each try is counted toward the lockout
// like a password: a wrong code stays counted, a right one clears the count with the sign-in.
func (s *Service) verifyLogin(ctx context.Context, req SecondStepRequest) (*LoginResult, error) {
	if normalizeCode(req.Code) == "" {
		return nil, hmisauth.FieldError("code", "Enter the 6-digit code from your authenticator app, or a recovery code.")
	}
	if len(req.Code) > 64 {
		return nil, wrongCode()
	}
	return s.secondStep(ctx, req, func(c *Challenge, now time.Time, res *LoginResult) error {
		recovery, left, err := s.checkCode(ctx, c.user, c.factors, req.Code, now)
		res.RecoveryCodeUsed, res.RecoveryCodesLeft, res.factor = recovery, left, "otp"
		return err
	})
}

// secondStep runs the checks every second step shares around prove, which checks the factor
// itself and answers ETOTPWrong or EPasskeyWrong (counted toward the lockout), or another
// error, when it fails.
// The step is counted against the client address's rate limits like a password (a code can be
// guessed too), and given back when it succeeds.
func (s *Service) secondStep(ctx context.Context, req SecondStepRequest, prove func(*Challenge, time.Time, *LoginResult) error) (_ *LoginResult, err error) {
	c, err := s.LoadChallenge(ctx, req.Site, req.Token)
	if err != nil {
		return nil, err
	}
	lim, err := s.reserveSignIn(ctx, c.Site, req.ClientAddr, c.Username)
	if err != nil {
		return nil, err
	}
	defer func() { s.settle(ctx, lim, err) }()
	site, u, now := c.Site, c.user, s.clock.Now()
	ctx = WithActor(ctx, Actor{ClientAddr: req.ClientAddr})
	attempt, err := s.store.ReserveLoginAttempt(ctx, site.Key, hmisauth.UsernameKey(u.Username), site.Policy.Lockout.Threshold, now)
	if err != nil {
		return nil, err
	}
	if !attempt.Allowed {
		s.refusedLocked(ctx, site, u.Username, req.ClientAddr)
		return nil, lockedError(site)
	}
	if reason, err := s.blockedReason(ctx, site, u, now); err != nil {
		return nil, err
	} else if reason != "" {
		// Counted like any failure: the one that reaches the threshold locked the username,
		// and says so, as a sign-in does.
		if lockErr := s.countFailure(ctx, site, u, attempt, hmisauth.EventLoginFailed, reason); lockErr != nil {
			return nil, lockErr
		}
		return nil, loginFailed(site, attempt)
	}
	res := &LoginResult{}
	if err := prove(c, now, res); err != nil {
		if code := hmisauth.ErrorCode(err); code != hmisauth.ETOTPWrong && code != hmisauth.EPasskeyWrong {
			return nil, s.notAGuess(ctx, site, u, attempt, err)
		}
		s.log.InfoContext(ctx, "second step failed", "site", site.Key, "username", u.Username, "attempt", attempt.Count)
		if lockErr := s.countFailure(ctx, site, u, attempt, hmisauth.EventLoginFailed, "wrong 2-step code"); lockErr != nil {
			if _, endErr := s.store.EndLoginChallenge(ctx, c.id); endErr != nil {
				return nil, endErr
			}
			return nil, lockErr
		}
		return nil, err
	}
	if first, err := s.store.EndLoginChallenge(ctx, c.id); err != nil {
		return nil, err
	} else if !first {
		return nil, challengeGone()
	}
	if req.Remember && site.Policy.MFA.RememberDeviceDays > 0 {
		if err := s.rememberDevice(ctx, site, u, now, req.UserAgent, res); err != nil {
			return nil, err
		}
	}
	if err := s.finishLogin(ctx, site, u, now, req.ClientAddr, req.UserAgent, res); err != nil {
		return nil, err
	}
	return res, nil
}

// notAGuess ends a second step that failed for a reason of the server's (the authenticator
// secret does not open): its attempt is given back, so the user is not locked out for it, and
// err is returned. Any other error is returned as it is, the attempt still counted.
func (s *Service) notAGuess(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, attempt hmisauth.Attempt, err error) error {
	if hmisauth.ErrorCode(err) != hmisauth.EMFAUnavailable {
		return err
	}
	if rerr := s.store.ReleaseLoginAttempt(ctx, site.Key, hmisauth.UsernameKey(u.Username), attempt); rerr != nil {
		return rerr
	}
	return err
}

// rememberDevice gives the browser a token that skips the second step on this account for
// the site's remember_device_days, until the password changes or 2-step verification is reset.
func (s *Service) rememberDevice(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time, agent string, res *LoginResult) error {
	token, hash := newToken()
	d := &hmisauth.RememberedDevice{UserID: u.ID, TokenHash: hash, CreatedAt: now,
		ExpiresAt: now.AddDate(0, 0, site.Policy.MFA.RememberDeviceDays), UserAgent: truncate(agent, 256)}
	ctx = s.audit(ctx, site, hmisauth.EventDeviceRemembered, u.Username, BrowserName(agent))
	if err := s.store.RememberDevice(ctx, d); err != nil {
		return err
	}
	res.DeviceToken, res.DeviceExpiresAt = token, d.ExpiresAt
	return nil
}

// deviceRemembered reports whether token is a live remembered device of u.
func (s *Service) deviceRemembered(ctx context.Context, u *hmisauth.User, token string, now time.Time) (bool, error) {
	if token == "" || len(token) > 128 {
		return false, nil
	}
	return s.store.DeviceRemembered(ctx, u.ID, HashToken(token), now)
}
