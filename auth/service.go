package auth

import (
	"context"
	"log/slog"
	"sort"
	"strings"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// Service applies hmisauth's rules to the accounts in a Store. It is safe for concurrent use;
// all shared state lives in the Store, so several server processes on one database agree.
type Service struct {
	store     hmisauth.Store
	clock     hmisauth.Clock
	hasher    *password.Hasher
	keys      *Keys
	letters   hmisauth.Letters
	publicURL string
	passkeys  *webauthn.WebAuthn // nil when passkeys cannot work at publicURL
	kick      func()
	sites     map[string]*hmisauth.Site
	log       *slog.Logger
	metrics   hmisauth.Metrics
}

// Deps are what a Service works with.
type Deps struct {
	Store  hmisauth.Store
	Clock  hmisauth.Clock
	Hasher *password.Hasher
	// Keys seal 2-step verification secrets. nil makes a random key for this process only:
	// fine for tests, never for a server (secrets would not open after a restart).
	Keys  *Keys
	Sites []*hmisauth.Site
	// Letters writes the e-mails the rules queue; PublicURL is the base of links in them.
	Letters   hmisauth.Letters
	PublicURL string
	// Kick, when set, is called after e-mail or reset requests are queued, to wake the
	// background workers instead of waiting for their next poll.
	Kick func()
	Log  *slog.Logger
	// Metrics counts sign-ins, lockouts, resets and sessions; nil counts nothing.
	Metrics hmisauth.Metrics
}

// NewService returns a Service over d.
func NewService(d Deps) *Service {
	m := make(map[string]*hmisauth.Site, len(d.Sites))
	for _, s := range d.Sites {
		m[s.Key] = s
	}
	s := &Service{store: d.Store, clock: d.Clock, hasher: d.Hasher, keys: d.Keys, letters: d.Letters,
		publicURL: strings.TrimSuffix(d.PublicURL, "/"), kick: d.Kick, sites: m, log: d.Log, metrics: d.Metrics}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = hmisauth.NoMetrics{}
	}
	if s.keys == nil {
		s.keys, _ = NewKeys(NewServerKey())
	}
	s.passkeys = newRelyingParty(s.publicURL, s.log)
	if s.kick == nil {
		s.kick = func() {}
	}
	return s
}

// Site returns the configured site with the given key.
func (s *Service) Site(key string) (*hmisauth.Site, error) {
	site, ok := s.sites[key]
	if !ok {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no site called %q.", key)
	}
	return site, nil
}

// Sites returns the configured sites, ordered by key.
func (s *Service) Sites() []*hmisauth.Site {
	out := make([]*hmisauth.Site, 0, len(s.sites))
	for _, site := range s.sites {
		out = append(out, site)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// SyncSites records the configured sites in the store (serve and migrate do this at start).
func (s *Service) SyncSites(ctx context.Context) error {
	for _, site := range s.Sites() {
		if err := s.store.SyncSite(ctx, site); err != nil {
			return err
		}
	}
	return nil
}

// RecordPolicies records each synced site's policy as the one in force: one that differs from
// the policy recorded at the last start (or the first) is stored with a policy_changed audit
// event, the monitoring pack's policy history. Only serve calls it: a command run with
// another configuration file (or none) does not change what the servers enforce.
func (s *Service) RecordPolicies(ctx context.Context) error {
	for _, site := range s.Sites() {
		snap := hmisauth.PolicySnapshot(site.Policy)
		if _, err := s.store.RecordPolicy(s.audit(ctx, site, hmisauth.EventPolicyChanged, "", snap), site.Key, snap); err != nil {
			return err
		}
	}
	return nil
}

// lockedError is what a locked account hears, with whom to call, and whether "Forgot
// password" can help (only where a reset also unlocks).
func lockedError(site *hmisauth.Site) error {
	if site.Policy.Lockout.ResetUnlocks {
		return hmisauth.Errorf(hmisauth.EAccountLocked,
			"Your account is locked after too many failed sign-in attempts. Use \"Forgot password\" to choose a new password, which also unlocks it, or contact the helpdesk at %s.",
			site.Helpdesk.Contact())
	}
	return hmisauth.Errorf(hmisauth.EAccountLocked,
		"Your account is locked after too many failed sign-in attempts. Contact the helpdesk at %s to unlock it.",
		site.Helpdesk.Contact())
}

// loginFailed is the single answer for every sign-in refusal an outsider must not tell apart,
// with how many more failures the username's counter allows (attempt.Count of threshold), so
// that a person can stop and reset the password before the lock. The counter is the one every
// username typed has, so the number is the same kind whatever the reason for the refusal. Only
// an attempt below the threshold answers this: the one that reaches it answers lockedError.
func loginFailed(site *hmisauth.Site, attempt hmisauth.Attempt) error {
	return &hmisauth.Error{Code: hmisauth.ELoginFailed, Message: "Login failed!",
		AttemptsLeft: site.Policy.Lockout.Threshold - attempt.Count}
}
