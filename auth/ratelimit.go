package auth

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The rate limits on one client address (site policy: hmisauth.RateLimits, and
// ResetLimits.PerAddress for "forgot password"). The lockout guards each account; these guard
// against one source trying many: many passwords, many usernames (password spraying: one
// common password on every account), many reset links. Beyond a limit the address is refused
// with ERateLimited until its window ends, and the answer says when that is.
//
// Attempts are counted in the Store before they are decided, as the lockout counts them, so
// parallel guesses cannot slip past a limit, and every server process sees the same counts.
// An attempt that was no guess (a sign-in that succeeded, a reset link that works, a request
// the server could not handle) is given back. Usernames are counted whether or not they
// exist, the same way for both, and only as digests: the limit tells nobody which accounts
// exist, and the table keeps no name (people type passwords into the username field).
//
// The address is the one the web layer believed (trusted_proxies); without one (a request
// that did not come over the network) nothing is limited.

// addressLimit is an attempt from a client address reserved against a site's limits: settle
// gives it back unless it turned out to be a guess.
type addressLimit struct {
	a hmisauth.AddressAttempt
	// guess says which outcomes (error codes) keep the attempt counted.
	guess func(code string) bool
}

// reserveSignIn counts a sign-in attempt, or a second step, from addr for the username typed
// against the site's limits on failed sign-ins and on distinct usernames. Over a limit it
// records the refusal and answers ERateLimited. It returns nil without an address.
func (s *Service) reserveSignIn(ctx context.Context, site *hmisauth.Site, addr, typed string) (*addressLimit, error) {
	if addr == "" {
		return nil, nil
	}
	lim, now := site.Policy.RateLimits, s.clock.Now()
	a := hmisauth.AddressAttempt{Key: "signin:" + site.Key + ":" + addr, Subject: s.usernameDigest(typed),
		Window: lim.Window, At: now, MaxAttempts: lim.SignInPerAddress, MaxSubjects: lim.SprayUsernames}
	res, err := s.store.ReserveAddressAttempt(ctx, a)
	if err != nil {
		return nil, err
	}
	if res.Allowed {
		return &addressLimit{a: a, guess: signInGuess}, nil
	}
	limit, kind, why := hmisauth.RateLimitSignIn, hmisauth.RefusalSignInLimited, "too many failed sign-ins from this address"
	if lim.SprayUsernames > 0 && res.Subjects >= lim.SprayUsernames {
		limit, kind, why = hmisauth.RateLimitSpraying, hmisauth.RefusalSprayLimited, "too many usernames tried from this address"
	}
	// The sign-in's outcome (rate_limited) is counted with every other (metrics.go).
	s.metrics.RateLimited(site.Key, limit)
	ctx = WithActor(ctx, Actor{ClientAddr: addr})
	typed = strings.TrimSpace(typed)
	ev := s.newEvent(ctx, site, hmisauth.EventLoginFailed, typed, "rate_limited: "+why)
	if s.refused(ctx, site, hmisauth.Refusal{Kind: kind, Key: addr, Value: typed}, ev) {
		s.log.WarnContext(ctx, "sign-ins rate-limited", "site", site.Key, "client", addr, "limit", limit)
	}
	return nil, rateLimited(site, now, hmisauth.WindowEnd(now, lim.Window),
		"Too many sign-in attempts came from your network (the internet connection you are on) in a short time, so signing in from it is paused.")
}

// signInGuess is a sign-in outcome that keeps its attempt counted: one that did not succeed
// because what was typed was wrong, or the username is locked. A right password (a second
// step asked for, a spent temporary password) and the server's own trouble (busy, database
// out of reach) give it back.
func signInGuess(code string) bool {
	switch code {
	case hmisauth.ELoginFailed, hmisauth.EAccountLocked, hmisauth.ETOTPWrong, hmisauth.EPasskeyWrong:
		return true
	}
	return false
}

// reserveResetLink counts a reset link opened (or submitted) from the context's address
// against the site's limit on reset links that do not work. Over the limit it records the
// refusal and answers ERateLimited. It returns nil without an address.
func (s *Service) reserveResetLink(ctx context.Context, site *hmisauth.Site) (*addressLimit, error) {
	addr := ActorOf(ctx).ClientAddr
	if addr == "" {
		return nil, nil
	}
	lim, now := site.Policy.RateLimits, s.clock.Now()
	a := hmisauth.AddressAttempt{Key: "reset:" + site.Key + ":" + addr, Window: lim.Window, At: now,
		MaxAttempts: lim.ResetPerAddress}
	res, err := s.store.ReserveAddressAttempt(ctx, a)
	if err != nil {
		return nil, err
	}
	if res.Allowed {
		return &addressLimit{a: a, guess: func(code string) bool { return code == hmisauth.ETokenInvalid }}, nil
	}
	s.metrics.RateLimited(site.Key, hmisauth.RateLimitReset)
	ev := s.newEvent(ctx, site, hmisauth.EventRateLimited, "", "reset link refused: too many reset links that do not work from this address")
	if s.refused(ctx, site, hmisauth.Refusal{Kind: hmisauth.RefusalResetLimited, Key: addr}, ev) {
		s.log.WarnContext(ctx, "reset links rate-limited", "site", site.Key, "client", addr)
	}
	return nil, rateLimited(site, now, hmisauth.WindowEnd(now, lim.Window),
		"Too many reset links that do not work were opened from your network (the internet connection you are on) in a short time, so reset links opened from it are paused.")
}

// forgotLimited is the answer to a "forgot password" request over the site's limit per
// address, which lifts at the end of the window that holds now.
func (s *Service) forgotLimited(site *hmisauth.Site, now time.Time) error {
	s.metrics.RateLimited(site.Key, hmisauth.RateLimitForgot)
	return rateLimited(site, now, hmisauth.WindowEnd(now, site.Policy.ResetLimits.AddressWindow),
		"Too many password-reset requests came from your network (the internet connection you are on) in a short time, so new requests from it are paused.")
}

// settle ends a reserved attempt by its outcome err: a guess stays counted, anything else is
// given back. A failure to give it back is logged, not returned: the answer stands, and the
// attempt counts until its window ends.
func (s *Service) settle(ctx context.Context, l *addressLimit, err error) {
	if l == nil || (err != nil && l.guess(hmisauth.ErrorCode(err))) {
		return
	}
	if rerr := s.store.ReleaseAddressAttempt(context.WithoutCancel(ctx), l.a); rerr != nil {
		s.log.WarnContext(ctx, "giving back a rate-limited attempt failed", "key", l.a.Key, "err", rerr)
	}
}

// usernameDigest is what the limits count of a username: its key (case and spaces as a
// sign-in ignores them), hashed with the server key: people type passwords into the username
// field, and an unkeyed digest of a weak one could be reversed from a copy of the database.
func (s *Service) usernameDigest(typed string) string {
	return hex.EncodeToString(s.keys.Hash("rate-limit username", []byte(hmisauth.UsernameKey(typed)))[:16])
}

// rateLimited is ERateLimited with the words of why, and when to try again: at until, in the
// site's time, and in how many minutes from now.
func rateLimited(site *hmisauth.Site, now, until time.Time, why string) error {
	wait := until.Sub(now)
	in := "in 1 minute"
	if m := (wait + time.Minute - 1) / time.Minute; m > 1 {
		in = fmt.Sprintf("in %d minutes", m)
	}
	return &hmisauth.Error{Code: hmisauth.ERateLimited, RetryAfter: wait,
		Message: fmt.Sprintf("%s Please try again at %s (%s).", why, until.In(site.Loc()).Format("3:04 PM MST"), in)}
}
