package oidc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// AddClient registers a client on a site and returns it with its secret, which is shown this
// once and stored only as a hash ("" for a public client).
func (p *Provider) AddClient(ctx context.Context, site string, spec ClientSpec) (*hmisauth.Client, string, error) {
	if _, err := p.site(site); err != nil {
		return nil, "", err
	}
	if err := p.check(&spec); err != nil {
		return nil, "", err
	}
	c, secret := p.newClient(site, newClientID(spec.Name), spec)
	ctx = p.audit(ctx, site, hmisauth.EventClientCreated, clientLabel(c)+kindText(c))
	if err := p.store.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	p.changed(site)
	return c, secret, nil
}

func kindText(c *hmisauth.Client) string {
	if c.Public {
		return ", public (PKCE, no secret)"
	}
	return ", confidential"
}

// newClient builds a client record with a fresh secret (none for a public client).
func (p *Provider) newClient(site, id string, spec ClientSpec) (*hmisauth.Client, string) {
	now := p.clock.Now()
	c := &hmisauth.Client{Site: site, ID: id, CreatedAt: now, UpdatedAt: now}
	apply(c, spec)
	var secret string
	if !c.Public {
		secret = randomToken()
		c.SecretHash = auth.HashToken(secret)
	}
	return c, secret
}

// apply copies a checked spec onto a client.
func apply(c *hmisauth.Client, spec ClientSpec) {
	c.Name, c.HomeURL, c.RedirectURIs, c.PostLogoutRedirectURIs = spec.Name, spec.HomeURL, spec.RedirectURIs, spec.PostLogoutRedirectURIs
	c.BackchannelLogoutURI, c.Public, c.Scopes = spec.BackchannelLogoutURI, spec.Public, spec.Scopes
	c.AccessTokenFormat, c.AccessTokenLifetime, c.RefreshTokens = spec.AccessTokenFormat, spec.AccessTokenLifetime, spec.RefreshTokens
}

// Client finds a client of a site.
func (p *Provider) Client(ctx context.Context, site, id string) (*hmisauth.Client, error) {
	if _, err := p.site(site); err != nil {
		return nil, err
	}
	c, err := p.store.Client(ctx, site, strings.TrimSpace(id))
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no application with the client ID %q on this site.", id)
	}
	return c, err
}

// Clients lists a site's clients.
func (p *Provider) Clients(ctx context.Context, site string) ([]*hmisauth.Client, error) {
	if _, err := p.site(site); err != nil {
		return nil, err
	}
	return p.store.Clients(ctx, site)
}

// editable finds a client the command line or console may change: not one the configuration
// file declares (start-up would undo the change).
func (p *Provider) editable(ctx context.Context, site, id string) (*hmisauth.Client, error) {
	c, err := p.Client(ctx, site, id)
	if err != nil {
		return nil, err
	}
	if c.FromConfig {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN,
			"The application %s is declared in the configuration file: change it there and restart.", clientLabel(c))
	}
	return c, nil
}

// UpdateClient replaces a client's settings with spec (its kind, public or confidential,
// stays as it was added).
func (p *Provider) UpdateClient(ctx context.Context, site, id string, spec ClientSpec) (*hmisauth.Client, error) {
	c, err := p.editable(ctx, site, id)
	if err != nil {
		return nil, err
	}
	spec.Public = c.Public
	if err := p.check(&spec); err != nil {
		return nil, err
	}
	apply(c, spec)
	c.UpdatedAt = p.clock.Now()
	if err := p.store.UpdateClient(p.audit(ctx, site, hmisauth.EventClientUpdated, clientLabel(c)), c); err != nil {
		return nil, err
	}
	p.changed(site)
	return c, nil
}

// RotateSecret gives a confidential client a new secret, shown once. The old secret keeps
// working until FinishRotation, so the application can be changed over without a gap. Asked
// again before then (a double click, a secret lost before it was used) it replaces the new
// secret and leaves the old one working: the application, still on the old one, never breaks.
func (p *Provider) RotateSecret(ctx context.Context, site, id string) (string, error) {
	c, err := p.editable(ctx, site, id)
	if err != nil {
		return "", err
	}
	if c.Public {
		return "", hmisauth.Errorf(hmisauth.EINVALID, "The application %s is public: it has no secret.", clientLabel(c))
	}
	secret := randomToken()
	detail := ": new secret; the old one works until the rotation is finished"
	if c.OldSecretHash == nil {
		c.OldSecretHash = c.SecretHash
	} else {
		detail = ": new secret, replacing the one made earlier in this rotation; the old one works until the rotation is finished"
	}
	c.SecretHash, c.UpdatedAt = auth.HashToken(secret), p.clock.Now()
	ctx = p.audit(ctx, site, hmisauth.EventClientSecret, clientLabel(c)+detail)
	if err := p.store.UpdateClient(ctx, c); err != nil {
		return "", err
	}
	p.changed(site)
	return secret, nil
}

// FinishRotation stops the old secret of a rotation.
func (p *Provider) FinishRotation(ctx context.Context, site, id string) error {
	c, err := p.editable(ctx, site, id)
	if err != nil {
		return err
	}
	if c.OldSecretHash == nil {
		return hmisauth.Errorf(hmisauth.EINVALID, "The application %s has no secret rotation under way.", clientLabel(c))
	}
	c.OldSecretHash, c.UpdatedAt = nil, p.clock.Now()
	if err := p.store.UpdateClient(p.audit(ctx, site, hmisauth.EventClientSecret, clientLabel(c)+": the old secret no longer works"), c); err != nil {
		return err
	}
	p.changed(site)
	return nil
}

// RemoveClient removes a client with everything it holds: its tokens stop working at once.
func (p *Provider) RemoveClient(ctx context.Context, site, id string) error {
	c, err := p.editable(ctx, site, id)
	if err != nil {
		return err
	}
	if err := p.store.DeleteClient(p.audit(ctx, site, hmisauth.EventClientRemoved, clientLabel(c)), site, c.ID); err != nil {
		return err
	}
	p.changed(site)
	return nil
}

// DeclaredClient is a client of the configuration file, with its secret read from its
// secret_file ("" for a public client).
type DeclaredClient struct {
	ID     string
	Spec   ClientSpec
	Secret string
}

// SyncClients makes a site's configuration-file clients what the file says: new ones are
// added, changed ones updated (the secret too), and those no longer in the file removed.
// Clients added on the command line or console are left alone.
func (p *Provider) SyncClients(ctx context.Context, site string, declared []DeclaredClient) error {
	existing, err := p.Clients(ctx, site)
	if err != nil {
		return err
	}
	have := map[string]*hmisauth.Client{}
	for _, c := range existing {
		have[c.ID] = c
	}
	for _, d := range declared {
		spec := d.Spec
		if err := ValidateClientID(d.ID); err != nil {
			return fmt.Errorf("client %s: %s", d.ID, hmisauth.ErrorMessage(err))
		}
		if err := p.check(&spec); err != nil {
			return fmt.Errorf("client %s: %s", d.ID, hmisauth.ErrorMessage(err))
		}
		if !spec.Public && len(d.Secret) < 16 {
			return fmt.Errorf("client %s: its secret must be at least 16 characters", d.ID)
		}
		c := have[d.ID]
		if c != nil && !c.FromConfig {
			return fmt.Errorf("client %s: an application with this ID was added on the command line or console; remove it first", d.ID)
		}
		next, _ := p.newClient(site, d.ID, spec)
		next.FromConfig = true
		if !spec.Public {
			next.SecretHash = auth.HashToken(d.Secret)
		} else {
			next.SecretHash = nil
		}
		if c == nil {
			if err := p.store.CreateClient(p.audit(ctx, site, hmisauth.EventClientCreated, clientLabel(next)+kindText(next)+", from the configuration"), next); err != nil {
				return declaredRefused(d.ID, err)
			}
			continue
		}
		next.CreatedAt = c.CreatedAt
		if sameClient(c, next) {
			continue
		}
		if err := p.store.UpdateClient(p.audit(ctx, site, hmisauth.EventClientUpdated, clientLabel(next)+", from the configuration"), next); err != nil {
			return declaredRefused(d.ID, err)
		}
	}
	for _, c := range existing {
		if c.FromConfig && !slices.ContainsFunc(declared, func(d DeclaredClient) bool { return d.ID == c.ID }) {
			if err := p.store.DeleteClient(p.audit(ctx, site, hmisauth.EventClientRemoved, clientLabel(c)+", no longer in the configuration"), site, c.ID); err != nil {
				return err
			}
		}
	}
	p.changed(site)
	return nil
}

// declaredRefused names the configuration's client in the store's refusal of it (a name
// another application has); any other error passes on.
func declaredRefused(id string, err error) error {
	if e := hmisauth.AsError(err); e != nil {
		return fmt.Errorf("client %s: %s", id, e.Message)
	}
	return err
}

// sameClient reports whether two records agree on everything a configuration sets.
func sameClient(a, b *hmisauth.Client) bool {
	return a.Name == b.Name && a.HomeURL == b.HomeURL && slices.Equal(a.RedirectURIs, b.RedirectURIs) &&
		slices.Equal(a.PostLogoutRedirectURIs, b.PostLogoutRedirectURIs) && a.BackchannelLogoutURI == b.BackchannelLogoutURI &&
		a.Public == b.Public && slices.Equal(a.Scopes, b.Scopes) && a.AccessTokenFormat == b.AccessTokenFormat &&
		a.AccessTokenLifetime == b.AccessTokenLifetime && a.RefreshTokens == b.RefreshTokens &&
		string(a.SecretHash) == string(b.SecretHash) && a.OldSecretHash == nil
}

// RotateKeys makes a site's next signing key the one that signs now, and a new next key.
func (p *Provider) RotateKeys(ctx context.Context, site string) (string, error) {
	if _, err := p.site(site); err != nil {
		return "", err
	}
	kid, err := p.signing.rotate(ctx, site)
	if err != nil {
		return "", err
	}
	ev := p.event(ctx, site, hmisauth.EventSigningKeyRotate, "the key "+kid+" signs from now on")
	if err := p.store.AppendEvents(ctx, ev); err != nil {
		return "", err
	}
	return kid, nil
}

// changed forgets what this process cached about a site's clients.
func (p *Provider) changed(site string) {
	if sp, ok := p.sites[site]; ok {
		sp.origins.forget()
	}
}

func (p *Provider) event(ctx context.Context, site, action, detail string) *hmisauth.Event {
	a := auth.ActorOf(ctx)
	return &hmisauth.Event{Site: site, At: p.clock.Now(), Actor: a.Username, Action: action, ClientAddr: a.ClientAddr, Detail: detail}
}

func (p *Provider) audit(ctx context.Context, site, action, detail string) context.Context {
	return hmisauth.WithEvent(ctx, p.event(ctx, site, action, detail))
}

// EnsureClient makes the site have a client with this ID, spec and secret, adding or updating
// it (not one the configuration file declares): for a program that registers itself, like
// the demo application.
func (p *Provider) EnsureClient(ctx context.Context, site, id string, spec ClientSpec, secret string) (*hmisauth.Client, error) {
	if _, err := p.site(site); err != nil {
		return nil, err
	}
	if err := ValidateClientID(id); err != nil {
		return nil, err
	}
	if err := p.check(&spec); err != nil {
		return nil, err
	}
	if !spec.Public && len(secret) < 16 {
		return nil, hmisauth.FieldError("secret", "A client secret must be at least 16 characters.")
	}
	next, _ := p.newClient(site, id, spec)
	next.SecretHash = nil
	if !spec.Public {
		next.SecretHash = auth.HashToken(secret)
	}
	c, err := p.store.Client(ctx, site, id)
	switch {
	case hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND:
		err = p.store.CreateClient(p.audit(ctx, site, hmisauth.EventClientCreated, clientLabel(next)+kindText(next)), next)
	case err != nil:
	case c.FromConfig:
		return nil, hmisauth.Errorf(hmisauth.ECONFLICT, "The application %s is declared in the configuration file.", clientLabel(c))
	case sameClient(c, next):
		return c, nil
	default:
		next.CreatedAt = c.CreatedAt
		err = p.store.UpdateClient(p.audit(ctx, site, hmisauth.EventClientUpdated, clientLabel(next)), next)
	}
	if err != nil {
		return nil, err
	}
	p.changed(site)
	return next, nil
}
