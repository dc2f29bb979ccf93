package main

import (
	"context"
	"fmt"
	"github.com/spf13/cobra"
	"sort"

	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// withClients is withApp for the client commands: the configuration file's clients are synced
// first, so they are listed and protected from changes. Other commands leave them to serve: a
// mistake in one application's entry must not stop the helpdesk's commands.
func (g *globals) withClients(run func(cmd *cobra.Command, a *app, args []string) error) func(*cobra.Command, []string) error {
	return g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
		if err := a.syncClients(cmd.Context()); err != nil {
			return err
		}
		return run(cmd, a, args)
	})
}

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
