package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Clients declared in the file: read with their secret, each mistake named by its key.
func TestClientsInTheFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hmis.secret"), []byte("a-secret-of-enough-length\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hmisauth.yaml")
	text := `oidc: {key_rotation: 30d}
sites:
  live:
    clients:
      hmis-app:
        name: HMIS
        redirect_uris: [https://hmis.example.org/oidc/callback]
        secret_file: hmis.secret
        access_token: {format: jwt, lifetime: 5m}
      spa: {name: Bed Board, redirect_uris: ['https://beds.example.org/'], public: true}
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	app := c.Sites["live"].Clients["hmis-app"]
	if app == nil || app.Secret != "a-secret-of-enough-length" || app.AccessToken.Format != "jwt" ||
		app.AccessToken.Lifetime != 5*time.Minute || !c.Sites["live"].Clients["spa"].Public || c.OIDC.KeyRotation != 30*24*time.Hour {
		t.Fatalf("clients read as %+v, %+v (rotation %v)", app, c.Sites["live"].Clients["spa"], c.OIDC.KeyRotation)
	}

	for _, tc := range []struct{ name, clients, want string }{
		{"bad ID", "'bad id': {name: X, redirect_uris: ['https://x.example/'], public: true}", `config: client ID "bad id" may contain only letters`},
		{"no secret", "app: {name: X, redirect_uris: ['https://x.example/']}", "config: sites.live.clients.app.secret_file must name the file"},
		{"public with secret", "app: {name: X, redirect_uris: ['https://x.example/'], public: true, secret_file: s}", "config: sites.live.clients.app.secret_file must not be set for a public client"},
		{"no name", "app: {redirect_uris: ['https://x.example/'], public: true}", "config: sites.live.clients.app.name must name the application"},
		{"no redirect", "app: {name: X, public: true}", "config: sites.live.clients.app.redirect_uris must list at least one"},
		{"format", "app: {name: X, redirect_uris: ['https://x.example/'], public: true, access_token: {format: paseto}}", `config: sites.live.clients.app.access_token.format must be opaque or jwt, not "paseto"`},
		{"not a group", "[a, b]", "config: sites.live.clients must be a group of applications"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients := tc.clients
			if !strings.HasPrefix(clients, "[") {
				clients = "{" + clients + "}"
			}
			got := loadErr(t, "sites:\n  live:\n    clients: "+clients+"\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
	if got := loadErr(t, "oidc: {key_rotation: 12h}\n"); !strings.Contains(got, "config: oidc.key_rotation must be at least 1d") {
		t.Errorf("key rotation: %q", got)
	}
}
