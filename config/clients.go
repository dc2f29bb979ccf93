package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hmisauth/hmisauth"
)

// decodeClients reads a site's clients: each client ID a group of keys.
func (l *loader) decodeClients(path string, n *yaml.Node, v reflect.Value) {
	l.decodeKeyed(path, n, v, "client ID", "client ID", "applications (hmis-app: …)", checkClientID, func(string) reflect.Value {
		return reflect.ValueOf(&hmisauth.ClientConfig{})
	})
}

// checkClientID says what is wrong with a client ID, or "".
func checkClientID(id string) string {
	if len(id) < 2 || len(id) > 64 {
		return "must be 2 to 64 characters"
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return "may contain only letters, digits, dot, hyphen and underscore"
		}
	}
	return ""
}

// loadClientSecrets reads each confidential client's secret_file (relative to the
// configuration file) and checks what a client must have; the provider checks the addresses
// at start.
func (l *loader) loadClientSecrets(prefix string, clients map[string]*hmisauth.ClientConfig, baseDir string) {
	for id, c := range clients {
		p := prefix + id + "."
		if strings.TrimSpace(c.Name) == "" {
			l.bad(p+"name", "must name the application as its users know it")
		}
		if len(c.RedirectURIs) == 0 {
			l.bad(p+"redirect_uris", "must list at least one address the application receives its users back at")
		}
		switch c.AccessToken.Format {
		case "", hmisauth.TokenOpaque, hmisauth.TokenJWT:
		default:
			l.bad(p+"access_token.format", "must be opaque or jwt, not %q", c.AccessToken.Format)
		}
		if lt := c.AccessToken.Lifetime; lt != 0 && (lt < time.Minute || lt > 24*time.Hour) {
			l.bad(p+"access_token.lifetime", "must be between 1m and 24h")
		}
		switch {
		case c.Public && c.SecretFile != "":
			l.bad(p+"secret_file", "must not be set for a public client (public: true uses PKCE, no secret)")
		case !c.Public && c.SecretFile == "":
			l.bad(p+"secret_file", "must name the file holding the client's secret (or set public: true)")
		case !c.Public:
			path := c.SecretFile
			if !filepath.IsAbs(path) && baseDir != "" {
				path = filepath.Join(baseDir, path)
			}
			data, err := readSmallFile(path)
			if err != nil {
				l.bad(p+"secret_file", "cannot be read: %v", err)
				continue
			}
			c.Secret = strings.TrimSpace(string(data))
			if len(c.Secret) < 16 {
				// The secret is never echoed.
				l.bad(p+"secret_file", "must hold a secret of at least 16 characters")
			}
		}
	}
}
