package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Where the provider's endpoints live under each issuer ({public_url}/{site}). Discovery is at
// the issuer's /.well-known/openid-configuration, as OpenID Connect Discovery requires; the
// rest sit under /oidc/ so they never meet the site's own pages.
const (
	pathPrefix    = "/oidc/"
	authorizePath = "oidc/authorize"
	tokenPath     = "oidc/token"
	userinfoPath  = "oidc/userinfo"
	introspectPth = "oidc/introspect"
	revokePath    = "oidc/revoke"
	endSessionPth = "oidc/end_session"
	keysPath      = "oidc/keys"
	devicePath    = "oidc/device" // the library always routes one; we answer it 404
)

// Scopes and claims the sites offer.
var (
	supportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, ScopeHMIS,
		oidc.ScopeOfflineAccess}
	supportedClaims = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
		"at_hash", "c_hash", "preferred_username", "name", "given_name", "family_name", "email", "email_verified",
		"phone_number", "phone_number_verified", "hmis_site", "hmis_role", "hmis_agency"}
)

// ScopeHMIS asks for the HMIS claims: hmis_site, hmis_role and hmis_agency.
const ScopeHMIS = "hmis"

// Authentication context classes (the acr claim): a password alone, or 2-step verification.
const (
	ACRPassword = "pwd"
	ACRMFA      = "mfa"
)

// Deps are what a Provider works with.
type Deps struct {
	Store hmisauth.Store
	Auth  *auth.Service
	// Keys is the server key: it seals the signing keys and derives each site's key for
	// codes and opaque access tokens, so every server process sharing it agrees.
	Keys      *auth.Keys
	Clock     hmisauth.Clock
	PublicURL string
	// KeyRotation is how long a signing key signs before the next one takes over
	// (oidc.key_rotation; default 90 days).
	KeyRotation time.Duration
	// HTTPClient delivers back-channel logouts; nil: a client with a 10-second timeout.
	HTTPClient *http.Client
	// Kick, when set, is called when logout notices may have been queued.
	Kick func()
	Log  *slog.Logger
}

// Provider is the OpenID Connect provider of every configured site.
type Provider struct {
	store     hmisauth.Store
	auth      *auth.Service
	keys      *auth.Keys
	clock     hmisauth.Clock
	publicURL string
	rotation  time.Duration
	signing   *keyring
	client    *http.Client
	kick      func()
	log       *slog.Logger
	sites     map[string]*siteProvider
}

// siteProvider is one site's issuer: its zitadel provider over a storage bound to the site.
type siteProvider struct {
	p       *Provider
	site    *hmisauth.Site
	issuer  string
	op      *op.Provider
	storage *storage
	origins *originCache
	handler http.Handler
}

// DefaultKeyRotation is how long a signing key signs unless oidc.key_rotation says otherwise.
const DefaultKeyRotation = 90 * 24 * time.Hour

// New returns the provider of every site auth knows.
func New(d Deps) (*Provider, error) {
	p := &Provider{store: d.Store, auth: d.Auth, keys: d.Keys, clock: d.Clock,
		publicURL: strings.TrimSuffix(d.PublicURL, "/"), rotation: d.KeyRotation, client: d.HTTPClient,
		kick: d.Kick, log: d.Log, sites: map[string]*siteProvider{}}
	if p.clock == nil {
		p.clock = hmisauth.SystemClock{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.rotation <= 0 {
		p.rotation = DefaultKeyRotation
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	if p.kick == nil {
		p.kick = func() {}
	}
	if p.keys == nil {
		return nil, errors.New("oidc: the server key is needed")
	}
	p.signing = newKeyring(p)
	insecure := strings.HasPrefix(p.publicURL, "http://")
	for _, site := range d.Auth.Sites() {
		sp, err := p.newSite(site, insecure)
		if err != nil {
			return nil, err
		}
		p.sites[site.Key] = sp
	}
	return p, nil
}

func (p *Provider) newSite(site *hmisauth.Site, insecure bool) (*siteProvider, error) {
	sp := &siteProvider{p: p, site: site, issuer: p.publicURL + "/" + site.Key}
	sp.storage = &storage{sp: sp}
	sp.origins = &originCache{sp: sp}
	// Codes and opaque access tokens are encrypted with a key of the site's own, derived from
	// the server key: a token of one site does not even open on another.
	var cryptoKey [32]byte
	copy(cryptoKey[:], p.keys.Hash("oidc token key:"+site.Key, nil))
	cfg := &op.Config{
		CryptoKey:                         cryptoKey,
		CryptoKeyId:                       site.Key + "-1",
		DefaultLogoutRedirectURI:          "/" + site.Key + "/login?notice=signed_out",
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedScopes:                   supportedScopes,
		SupportedClaims:                   supportedClaims,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{
		op.WithCustomEndpoints(op.NewEndpoint(authorizePath), op.NewEndpoint(tokenPath), op.NewEndpoint(userinfoPath),
			op.NewEndpoint(revokePath), op.NewEndpoint(endSessionPth), op.NewEndpoint(keysPath)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(introspectPth)),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint(devicePath)),
		// Only the authenticated AES-GCM form: the library's fallback decrypter reads an
		// older, unauthenticated format we never wrote.
		op.WithCrypto(&cachingCrypto{Crypto: op.NewAES256GCMCrypto(cryptoKey, cfg.CryptoKeyId), plain: map[string]string{}}),
		op.WithHttpInterceptors(sp.intercept),
		op.WithCORSOptions(&cors.Options{
			AllowOriginVaryRequestFunc: sp.origins.allowed,
			AllowedMethods:             []string{http.MethodGet, http.MethodPost},
			AllowedHeaders:             []string{"Authorization", "Content-Type"},
		}),
	}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	o, err := op.NewProvider(cfg, sp.storage, op.StaticIssuer(sp.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: site %s: %w", site.Key, err)
	}
	sp.op = o
	sp.handler = http.StripPrefix("/"+site.Key, http.HandlerFunc(sp.serve))
	return sp, nil
}

// Issuer is a site's issuer URL.
func (p *Provider) Issuer(site string) string { return p.publicURL + "/" + site }

// Handler serves a site's provider endpoints: requests for /{site}/oidc/… and the discovery
// document /{site}/.well-known/openid-configuration. nil for a site that does not exist.
func (p *Provider) Handler(site string) http.Handler {
	sp, ok := p.sites[site]
	if !ok {
		return nil
	}
	return sp.handler
}

// serve routes a request whose path starts at the issuer (the site prefix stripped).
func (sp *siteProvider) serve(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == oidc.DiscoveryEndpoint && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		sp.discovery(w, r)
	case path == "/"+authorizePath+"/callback", path == "/"+devicePath, !strings.HasPrefix(path, pathPrefix):
		// The callback is not used: the sign-in page hands out the code itself, in the
		// browser that started the request (Continue). No device flow.
		http.NotFound(w, r)
	default:
		sp.op.ServeHTTP(w, r)
	}
}

// intercept runs inside the library's router (after its CORS and issuer handling): it gives
// the request its client memo, and refresh grants are answered by refresh, which issues no
// new ID token.
func (sp *siteProvider) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(withClientMemo(r.Context()))
		if r.URL.Path == "/"+tokenPath && r.Method == http.MethodPost && isRefreshGrant(r) {
			sp.refresh(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isRefreshGrant peeks at a token request's grant type.
func isRefreshGrant(r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		return false
	}
	return r.PostForm.Get("grant_type") == string(oidc.GrantTypeRefreshToken)
}

// discovery serves the site's OpenID Provider metadata: the library's, with what this
// provider does not offer taken out (it always lists the implicit flow, the JWT-bearer grant
// and the device endpoint).
func (sp *siteProvider) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), sp.issuer)
	cfg := op.CreateDiscoveryConfig(ctx, sp.op, sp.storage)
	cfg.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	cfg.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	cfg.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	cfg.DeviceAuthorizationEndpoint = ""
	cfg.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	cfg.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	cfg.TokenEndpointAuthSigningAlgValuesSupported = nil
	cfg.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic}
	cfg.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	cfg.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	cfg.RevocationEndpointAuthSigningAlgValuesSupported = nil
	cfg.RequestObjectSigningAlgValuesSupported = nil
	cfg.ACRValuesSupported = []string{ACRPassword, ACRMFA}
	cfg.ClaimsParameterSupported = false
	cfg.UILocalesSupported = nil
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(cfg)
}

func (p *Provider) site(key string) (*siteProvider, error) {
	sp, ok := p.sites[key]
	if !ok {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no site called %q.", key)
	}
	return sp, nil
}

// EnsureKeys makes sure every site has its signing keys and that they open with the server
// key: at start, and daily (a next key is made when the current one takes over).
func (p *Provider) EnsureKeys(ctx context.Context) error {
	for key := range p.sites {
		if err := p.signing.ensure(ctx, key); err != nil {
			return fmt.Errorf("oidc: site %s: %w", key, err)
		}
	}
	return nil
}

// decryptCacheSize bounds the tokens whose decryption a process remembers.
const decryptCacheSize = 20000

// cachingCrypto remembers what opaque access tokens decrypt to: userinfo and introspection
// see the same token many times, and parsing its JWE is a good part of their cost. A token is
// looked up by its exact text, and decryption is deterministic, so the cache answers only
// what decrypting would; whether the token is still live is always asked of the store.
type cachingCrypto struct {
	op.Crypto
	mu    sync.Mutex
	plain map[string]string
}

func (c *cachingCrypto) Decrypt(s string) (string, error) {
	c.mu.Lock()
	v, ok := c.plain[s]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.Crypto.Decrypt(s)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.plain) >= decryptCacheSize {
		clear(c.plain) // tokens live minutes: starting over costs one decryption each
	}
	c.plain[s] = v
	c.mu.Unlock()
	return v, nil
}
