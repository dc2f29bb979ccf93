package auth

import (
	"context"
	"log/slog"
	"sort"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// Service applies hmisauth's rules to the accounts in a Store. It is safe for concurrent use;
// all shared state lives in the Store, so several server processes on one database agree.
type Service struct {
	store  hmisauth.Store
	clock  hmisauth.Clock
	hasher *password.Hasher
	sites  map[string]*hmisauth.Site
	log    *slog.Logger
}

// NewService returns a Service for the given sites.
func NewService(store hmisauth.Store, clock hmisauth.Clock, hasher *password.Hasher, sites []*hmisauth.Site, log *slog.Logger) *Service {
	m := make(map[string]*hmisauth.Site, len(sites))
	for _, s := range sites {
		m[s.Key] = s
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, clock: clock, hasher: hasher, sites: m, log: log}
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

// lockedError is what a locked account hears, with whom to call.
func lockedError(site *hmisauth.Site) error {
	return hmisauth.Errorf(hmisauth.EAccountLocked,
		"Your account is locked after too many failed sign-in attempts. Contact the helpdesk at %s to unlock it.",
		site.Helpdesk.Contact())
}

// loginFailed is the single answer for every sign-in refusal an outsider must not tell apart.
func loginFailed() error {
	return &hmisauth.Error{Code: hmisauth.ELoginFailed, Message: "Login failed!"}
}
