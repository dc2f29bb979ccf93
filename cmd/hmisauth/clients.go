package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// syncClients makes each site's stored configuration-file clients what the file says.
func (a *app) syncClients(ctx context.Context) error {
	ctx = auth.WithActor(ctx, auth.Actor{Username: "config"})
	for _, key := range a.cfg.SiteKeys {
		site := a.cfg.Sites[key]
		ids := make([]string, 0, len(site.Clients))
		for id := range site.Clients {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var declared []oidc.DeclaredClient
		for _, id := range ids {
			c := site.Clients[id]
			declared = append(declared, oidc.DeclaredClient{ID: id, Secret: c.Secret, Spec: oidc.ClientSpec{
				Name: c.Name, HomeURL: c.HomeURL, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
				BackchannelLogoutURI: c.BackchannelLogoutURI, Public: c.Public, Scopes: c.Scopes,
				AccessTokenFormat: c.AccessToken.Format, AccessTokenLifetime: c.AccessToken.Lifetime, RefreshTokens: c.RefreshTokens}})
		}
		if err := a.oidc.SyncClients(ctx, key, declared); err != nil {
			return fmt.Errorf("config: sites.%s.clients: %w", key, err)
		}
	}
	return nil
}
