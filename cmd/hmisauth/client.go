package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/oidc"
)

// The client and oidc commands: applications that sign their users in through a site
// (OpenID Connect clients) and the sites' signing keys. The rules (what a valid redirect
// address is, what may change) are oidc.Provider's; these only read flags and print.

func newClientCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Applications that sign their users in here (OpenID Connect clients)"}
	cmd.AddCommand(newClientAddCmd(g), newClientListCmd(g), newClientUpdateCmd(g), newClientRotateSecretCmd(g),
		newClientRemoveCmd(g))
	return cmd
}

func newOIDCCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "oidc", Short: "The OpenID Connect provider: signing keys"}
	cmd.AddCommand(newOIDCRotateKeysCmd(g))
	return cmd
}

// clientFlags are the flags add and update share; only the flags given change anything.
type clientFlags struct {
	name, homeURL, backchannel, format string
	redirects, postLogout, scopes      []string
	public, refresh                    bool
	lifetime                           time.Duration
}

func (f *clientFlags) register(cmd *cobra.Command, add bool) {
	fs := cmd.Flags()
	name, redirects, clear := " (required)", " (at least one)", ""
	if !add {
		name, redirects, clear = "", " (those given replace all)", ` ("" removes it)`
	}
	fs.StringVar(&f.name, "name", "", `the application's name, as users know it ("HMIS")`+name)
	fs.StringArrayVar(&f.redirects, "redirect-uri", nil, "where the application receives the user back after sign-in; repeat for several"+redirects)
	fs.StringArrayVar(&f.postLogout, "post-logout-redirect-uri", nil, "where the application may send the user after signing out; repeat for several"+clear)
	fs.StringVar(&f.backchannel, "backchannel-logout-uri", "", "where the application is told that a session ended (back-channel logout)"+clear)
	fs.StringVar(&f.homeURL, "home-url", "", "the application's address, linked from the account page"+clear)
	fs.StringArrayVar(&f.scopes, "scope", nil, "a scope the application may ask for besides openid (profile, email, phone, hmis, offline_access); repeat for several; none given: all")
	fs.StringVar(&f.format, "access-token-format", "", "opaque (default) or jwt")
	fs.DurationVar(&f.lifetime, "access-token-lifetime", 0, "how long an access token lives, 1m to 24h (default 10m)")
	fs.BoolVar(&f.refresh, "refresh-tokens", false, "give the application a refresh token at every sign-in (without it, only when it asks for offline_access)")
	if add {
		fs.BoolVar(&f.public, "public", false, "a single-page or native application: no secret, PKCE required (cannot be changed later)")
	}
}

// apply overrides spec with the flags given on the command line.
func (f *clientFlags) apply(cmd *cobra.Command, spec *oidc.ClientSpec) {
	changed := cmd.Flags().Changed
	if changed("name") {
		spec.Name = f.name
	}
	if changed("redirect-uri") {
		spec.RedirectURIs = f.redirects
	}
	if changed("post-logout-redirect-uri") {
		spec.PostLogoutRedirectURIs = f.postLogout
	}
	if changed("backchannel-logout-uri") {
		spec.BackchannelLogoutURI = f.backchannel
	}
	if changed("home-url") {
		spec.HomeURL = f.homeURL
	}
	if changed("scope") {
		spec.Scopes = f.scopes
	}
	if changed("access-token-format") {
		spec.AccessTokenFormat = f.format
	}
	if changed("access-token-lifetime") {
		spec.AccessTokenLifetime = f.lifetime
	}
	if changed("refresh-tokens") {
		spec.RefreshTokens = f.refresh
	}
	if changed("public") {
		spec.Public = f.public
	}
}

// clientSecret is what add and rotate-secret print: the one time the secret is shown.
type clientSecret struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// printSecret prints the client ID and secret as JSON, always (scripts read it, like user
// create's), with the warning that it is shown once on standard error.
func (g *globals) printSecret(id, secret, note string) error {
	g.json = true
	fmt.Fprint(g.stderr, note)
	return g.print(clientSecret{id, secret}, "")
}

func newClientAddCmd(g *globals) *cobra.Command {
	var site string
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Register an application; prints its client ID and secret (shown once)",
		Args:  cobra.NoArgs,
		RunE: g.withClients(func(cmd *cobra.Command, a *app, _ []string) error {
			var spec oidc.ClientSpec
			f.apply(cmd, &spec)
			c, secret, err := a.oidc.AddClient(cmd.Context(), site, spec)
			if err != nil {
				return err
			}
			note := "The client secret is shown only this once: put it into the application's configuration now.\n" +
				"If it is lost, make a new one with: hmisauth client rotate-secret --site " + printable(site) + " " + printable(c.ID) + "\n"
			if c.Public {
				note = "This is a public application: it has no secret and must use PKCE.\n"
			}
			return g.printSecret(c.ID, secret, note)
		}),
	}
	siteFlag(cmd, &site)
	f.register(cmd, true)
	return cmd
}

func newClientUpdateCmd(g *globals) *cobra.Command {
	var site string
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID",
		Short: "Change an application's settings (only the flags given)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withClients(func(cmd *cobra.Command, a *app, args []string) error {
			c, err := a.oidc.Client(cmd.Context(), site, args[0])
			if err != nil {
				return err
			}
			spec := oidc.SpecOf(c)
			f.apply(cmd, &spec)
			if c, err = a.oidc.UpdateClient(cmd.Context(), site, c.ID, spec); err != nil {
				return err
			}
			v := viewClient(c)
			return g.print(v, "Updated "+v.String())
		}),
	}
	siteFlag(cmd, &site)
	f.register(cmd, false)
	return cmd
}

func newClientRotateSecretCmd(g *globals) *cobra.Command {
	var site string
	var finish bool
	cmd := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Give an application a new secret (the old one works until --finish)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withClients(func(cmd *cobra.Command, a *app, args []string) error {
			if finish {
				if err := a.oidc.FinishRotation(cmd.Context(), site, args[0]); err != nil {
					return err
				}
				c, err := a.oidc.Client(cmd.Context(), site, args[0])
				if err != nil {
					return err
				}
				v := viewClient(c)
				return g.print(v, "The old secret no longer works. "+v.String())
			}
			secret, err := a.oidc.RotateSecret(cmd.Context(), site, args[0])
			if err != nil {
				return err
			}
			id := strings.TrimSpace(args[0])
			note := "The new client secret is shown only this once: put it into the application's configuration now.\n" +
				"The old secret keeps working until you run: hmisauth client rotate-secret --finish --site " + printable(site) + " " + printable(id) + "\n"
			return g.printSecret(id, secret, note)
		}),
	}
	siteFlag(cmd, &site)
	cmd.Flags().BoolVar(&finish, "finish", false, "stop the old secret, once the application uses the new one")
	return cmd
}

func newClientRemoveCmd(g *globals) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "remove CLIENT_ID",
		Short: "Remove an application: its tokens stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: g.withClients(func(cmd *cobra.Command, a *app, args []string) error {
			c, err := a.oidc.Client(cmd.Context(), site, args[0])
			if err != nil {
				return err
			}
			if err := a.oidc.RemoveClient(cmd.Context(), site, c.ID); err != nil {
				return err
			}
			return g.print(struct {
				ClientID string `json:"client_id"`
				Removed  bool   `json:"removed"`
			}{c.ID, true}, fmt.Sprintf("Removed %s (%s) from %s: its tokens no longer work.\n", printable(c.Name), printable(c.ID), printable(site)))
		}),
	}
	siteFlag(cmd, &site)
	return cmd
}

func newClientListCmd(g *globals) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a site's applications",
		Args:  cobra.NoArgs,
		RunE: g.withClients(func(cmd *cobra.Command, a *app, _ []string) error {
			list, err := a.oidc.Clients(cmd.Context(), site)
			if err != nil {
				return err
			}
			views := make([]clientView, 0, len(list))
			var b strings.Builder
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tKIND\tREDIRECT URIS\tFROM CONFIG")
			for _, c := range list {
				v := viewClient(c)
				views = append(views, v)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(v.ClientID), printable(v.Name), v.Kind,
					printable(strings.Join(v.RedirectURIs, " ")), map[bool]string{true: "yes", false: "no"}[v.FromConfig])
			}
			tw.Flush()
			if len(list) == 0 {
				b.Reset()
				b.WriteString("No applications yet. Add one with: hmisauth client add --site " + printable(site) +
					" --name NAME --redirect-uri https://app.example.org/oidc/callback\n")
			}
			return g.print(views, b.String())
		}),
	}
	siteFlag(cmd, &site)
	return cmd
}

// clientView is an application as the CLI prints it; it never holds a secret.
type clientView struct {
	ClientID               string    `json:"client_id"`
	Site                   string    `json:"site"`
	Name                   string    `json:"name"`
	Kind                   string    `json:"kind"` // confidential or public
	HomeURL                string    `json:"home_url"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string    `json:"backchannel_logout_uri"`
	Scopes                 []string  `json:"scopes"` // empty: every scope the site offers
	AccessTokenFormat      string    `json:"access_token_format"`
	AccessTokenLifetime    string    `json:"access_token_lifetime"`
	RefreshTokens          bool      `json:"refresh_tokens"`
	SecretRotation         bool      `json:"secret_rotation"` // the old secret still works too
	FromConfig             bool      `json:"from_config"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

func viewClient(c *hmisauth.Client) clientView {
	kind := "confidential"
	if c.Public {
		kind = "public"
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return clientView{ClientID: c.ID, Site: c.Site, Name: c.Name, Kind: kind, HomeURL: c.HomeURL,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI: c.BackchannelLogoutURI, Scopes: nonNil(c.Scopes), AccessTokenFormat: c.AccessTokenFormat,
		AccessTokenLifetime: c.AccessTokenLifetime.String(), RefreshTokens: c.RefreshTokens,
		SecretRotation: c.OldSecretHash != nil, FromConfig: c.FromConfig, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// String is the application in a few lines of text, every stored value escaped.
func (v clientView) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) on %s — %s", printable(v.Name), printable(v.ClientID), printable(v.Site), v.Kind)
	if v.SecretRotation {
		b.WriteString(", secret rotation under way (the old secret works too)")
	}
	if v.FromConfig {
		b.WriteString(", from the configuration file")
	}
	b.WriteString("\n")
	line := func(label string, vals ...string) {
		var shown []string
		for _, s := range vals {
			if s != "" {
				shown = append(shown, printable(s))
			}
		}
		fmt.Fprintf(&b, "  %s: %s\n", label, dash(strings.Join(shown, " ")))
	}
	line("redirect URIs", v.RedirectURIs...)
	line("post-logout redirect URIs", v.PostLogoutRedirectURIs...)
	line("back-channel logout URI", v.BackchannelLogoutURI)
	line("home address", v.HomeURL)
	scopes := "all the site offers"
	if len(v.Scopes) > 0 {
		scopes = strings.Join(v.Scopes, " ")
	}
	line("scopes", scopes)
	line("access tokens", v.AccessTokenFormat+", "+v.AccessTokenLifetime)
	line("refresh tokens", map[bool]string{true: "at every sign-in", false: "only with offline_access"}[v.RefreshTokens])
	return b.String()
}

func newOIDCRotateKeysCmd(g *globals) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "rotate-keys",
		Short: "Start signing with each site's next key now (all sites, or --site)",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			sites := a.cfg.SiteKeys
			if cmd.Flags().Changed("site") {
				sites = []string{site}
			}
			type rotated struct {
				Site string `json:"site"`
				KID  string `json:"kid"`
			}
			out := make([]rotated, 0, len(sites))
			var b strings.Builder
			for _, key := range sites {
				kid, err := a.oidc.RotateKeys(cmd.Context(), key)
				if err != nil {
					return err
				}
				out = append(out, rotated{key, kid})
				fmt.Fprintf(&b, "%s: the key %s signs from now on\n", printable(key), printable(kid))
			}
			fmt.Fprintf(&b, "Tokens signed with the previous key still verify: it stays published for %d days.\n", oidc.KeyGrace/(24*time.Hour))
			return g.print(out, b.String())
		}),
	}
	cmd.Flags().StringVar(&site, "site", "", "site key, e.g. live or training (default: every site)")
	return cmd
}
