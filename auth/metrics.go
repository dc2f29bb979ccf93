package auth

import (
	"context"

	"github.com/hmisauth/hmisauth"
)

// Login checks a username and password against the site's rules (see login) and counts the
// outcome in the metrics.
func (s *Service) Login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	res, err := s.login(ctx, req)
	s.countSignIn(req.Site, res, err)
	return res, err
}

// VerifyLogin completes a sign-in with its second step (see verifyLogin), counting the outcome.
func (s *Service) VerifyLogin(ctx context.Context, req SecondStepRequest) (*LoginResult, error) {
	res, err := s.verifyLogin(ctx, req)
	s.countSignIn(req.Site, res, err)
	return res, err
}

// VerifyPasskeyLogin completes a sign-in with a passkey's answer (see verifyPasskeyLogin),
// counting the outcome.
func (s *Service) VerifyPasskeyLogin(ctx context.Context, req SecondStepRequest, response []byte) (*LoginResult, error) {
	res, err := s.verifyPasskeyLogin(ctx, req, response)
	s.countSignIn(req.Site, res, err)
	return res, err
}

// countSignIn counts one sign-in step's outcome. A request that never became an attempt (an
// unknown site, empty fields, an expired second page) is not counted; neither is a fault
// (the database out of reach), which the HTTP metrics count by status.
func (s *Service) countSignIn(site string, res *LoginResult, err error) {
	if _, ok := s.sites[site]; !ok {
		return
	}
	var outcome string
	switch hmisauth.ErrorCode(err) {
	case "":
		outcome = hmisauth.OutcomeSuccess
		if res != nil && res.Challenge != nil {
			outcome = hmisauth.OutcomeTOTPRequired
		}
	case hmisauth.ETOTPRequired:
		outcome = hmisauth.OutcomeTOTPRequired
	case hmisauth.ELoginFailed, hmisauth.ETOTPWrong, hmisauth.EPasskeyWrong:
		outcome = hmisauth.OutcomeFailed
	case hmisauth.EAccountLocked:
		outcome = hmisauth.OutcomeLocked
	case hmisauth.EBusy:
		outcome = hmisauth.OutcomeBusy
	case hmisauth.ERateLimited:
		outcome = hmisauth.OutcomeRateLimited
	default:
		return
	}
	s.metrics.SignIn(site, outcome)
}

// countLockouts counts the lockouts among events just recorded: every path that locks an
// account (a wrong password, 2-step code, passkey or security answer) records
// EventAccountLocked with it.
func (s *Service) countLockouts(evs []*hmisauth.Event) {
	for _, ev := range evs {
		if ev.Action == hmisauth.EventAccountLocked {
			s.metrics.Lockout(ev.Site)
		}
	}
}

// countEnded prepares to count the sessions a step is about to end: the user's sessions
// other than keepID (0: all), listed now. The function it returns counts them, with reason,
// if the step's error is nil. The count is the metrics' (a session opened in between may end
// too): it costs one read, and only steps an administrator or the user takes pay it.
func (s *Service) countEnded(ctx context.Context, site string, userID, keepID int64, reason string) func(error) {
	sessions, err := s.store.UserSessions(ctx, userID)
	n := 0
	if err == nil {
		for _, sess := range sessions {
			if sess.ID != keepID {
				n++
			}
		}
	}
	return func(err error) {
		if err == nil {
			s.metrics.SessionEnded(site, reason, n)
		}
	}
}
