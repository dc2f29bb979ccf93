package oidc

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// client is op.Client over a registered client.
type client struct {
	c    *hmisauth.Client
	site string
}

// idTokenLifetime is how long an ID token is good for: it proves a sign-in that just happened.
const idTokenLifetime = 10 * time.Minute

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is where the library sends the browser after a valid authorization request: the
// site's own sign-in step, which finishes the request (Continue).
func (c *client) LoginURL(id string) string {
	return "/" + c.site + "/continue?request=" + url.QueryEscape(id)
}
func (c *client) AccessTokenType() op.AccessTokenType {
	if c.c.AccessTokenFormat == hmisauth.TokenJWT {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}
func (c *client) IDTokenLifetime() time.Duration { return idTokenLifetime }

// DevMode lets a public client use an http redirect address; every address is still matched
// exactly against those an administrator registered (who is told to use https outside
// development, see AddClient).
func (c *client) DevMode() bool { return c.c.Public }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed says whether the client may ask for a scope beyond the standard ones (which
// the library always keeps): hmis, unless the client's scopes leave it out.
func (c *client) IsScopeAllowed(scope string) bool {
	return scope == ScopeHMIS && (len(c.c.Scopes) == 0 || slices.Contains(c.c.Scopes, scope))
}
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// secretMatches compares a presented secret with the client's current and previous secret
// hashes, in constant time, always both.
func secretMatches(c *hmisauth.Client, secret string) bool {
	if c.Public || len(c.SecretHash) == 0 || secret == "" {
		return false
	}
	h := auth.HashToken(secret)
	cur := subtle.ConstantTimeCompare(h, c.SecretHash)
	old := subtle.ConstantTimeCompare(h, c.OldSecretHash)
	return cur|old == 1
}

// errUnknownClient is what the library hears for an unknown client or a wrong secret. It must
// be an *oidc.Error: the library passes a plain error from some paths (the refresh grant's
// client lookup) through as a server error.
func errUnknownClient() error {
	return oidc.ErrInvalidClient().WithDescription("unknown client or wrong secret")
}

// originCache is the set of browser origins a site's clients redirect to, for CORS: only they
// may call the token, userinfo and keys endpoints from a web page.
type originCache struct {
	sp *siteProvider

	mu      sync.Mutex
	origins map[string]bool
	readAt  time.Time
}

// originCacheFor bounds how stale the CORS origins may be after a client changes.
const originCacheFor = 30 * time.Second

func (o *originCache) allowed(r *http.Request, origin string) (bool, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.origins == nil || time.Since(o.readAt) > originCacheFor {
		clients, err := o.sp.p.store.Clients(r.Context(), o.sp.site.Key)
		if err != nil {
			return false, nil
		}
		o.origins = map[string]bool{}
		for _, c := range clients {
			for _, u := range c.RedirectURIs {
				if origin := originOf(u); origin != "" {
					o.origins[origin] = true
				}
			}
		}
		o.readAt = time.Now()
	}
	return o.origins[strings.ToLower(origin)], nil
}

// forget makes the next CORS check read the clients again.
func (o *originCache) forget() {
	o.mu.Lock()
	o.origins = nil
	o.mu.Unlock()
}

// originOf is the scheme://host[:port] of an absolute URL, lower-cased; "" if it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// clientMemo holds the client records one request has read: a token request looks its client
// up three times (the library twice, the token's checks once). It lives as long as the
// request, so a change to a client (a new secret, a removal) counts from the next request on.
type clientMemo struct {
	mu      sync.Mutex
	clients map[string]*hmisauth.Client
}

type clientMemoKey struct{}

// withClientMemo returns ctx with an empty memo for the request.
func withClientMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, clientMemoKey{}, &clientMemo{clients: map[string]*hmisauth.Client{}})
}

// loadClient finds a client of the site; ENOTFOUND as errUnknownClient. The record is shared:
// callers must not change it.
func (sp *siteProvider) loadClient(ctx context.Context, id string) (*hmisauth.Client, error) {
	if id == "" || len(id) > 200 {
		return nil, errUnknownClient()
	}
	memo, _ := ctx.Value(clientMemoKey{}).(*clientMemo)
	if memo != nil {
		memo.mu.Lock()
		c := memo.clients[id]
		memo.mu.Unlock()
		if c != nil {
			return c, nil
		}
	}
	c, err := sp.readClient(ctx, id)
	if err == nil && memo != nil {
		memo.mu.Lock()
		memo.clients[id] = c
		memo.mu.Unlock()
	}
	return c, err
}

// readClient reads a client from the store.
func (sp *siteProvider) readClient(ctx context.Context, id string) (*hmisauth.Client, error) {
	c, err := sp.p.store.Client(ctx, sp.site.Key, id)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, errUnknownClient()
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}
