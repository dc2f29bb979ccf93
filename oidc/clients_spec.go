package oidc

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// ClientSpec is what an administrator decides about a client (the command line's flags, the
// console's form, a configuration file's clients: entry).
type ClientSpec struct {
	Name                   string
	HomeURL                string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
	// Public clients (single-page and native apps) get no secret and must use PKCE; it is
	// chosen when the client is added.
	Public              bool
	Scopes              []string // beyond openid; empty: all the site offers
	AccessTokenFormat   string   // hmisauth.TokenOpaque (default) or hmisauth.TokenJWT
	AccessTokenLifetime time.Duration
	RefreshTokens       bool
}

// Limits on a client.
const (
	maxURIs             = 10
	maxURILength        = 2000
	minAccessLifetime   = time.Minute
	maxAccessLifetime   = 24 * time.Hour
	maxClientNameLength = 100
)

// SpecOf is the spec of an existing client, to change a field or two.
func SpecOf(c *hmisauth.Client) ClientSpec {
	return ClientSpec{Name: c.Name, HomeURL: c.HomeURL, RedirectURIs: slices.Clone(c.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(c.PostLogoutRedirectURIs), BackchannelLogoutURI: c.BackchannelLogoutURI,
		Public: c.Public, Scopes: slices.Clone(c.Scopes), AccessTokenFormat: c.AccessTokenFormat,
		AccessTokenLifetime: c.AccessTokenLifetime, RefreshTokens: c.RefreshTokens}
}

// check validates a spec and fills its defaults, with messages an administrator understands.
func (p *Provider) check(spec *ClientSpec) error {
	spec.Name = strings.TrimSpace(spec.Name)
	switch {
	case spec.Name == "":
		return hmisauth.FieldError("name", "Enter the application's name, as users know it (\"HMIS\").")
	case utf8.RuneCountInString(spec.Name) > maxClientNameLength:
		return hmisauth.FieldError("name", "An application's name can be at most 100 characters.")
	}
	if err := auth.ValidateText("name", "application's name", spec.Name); err != nil {
		return err
	}
	var err error
	if spec.RedirectURIs, err = p.checkURIs("redirect_uri", "sign-in return address", spec.RedirectURIs, 1); err != nil {
		return err
	}
	if spec.PostLogoutRedirectURIs, err = p.checkURIs("post_logout_redirect_uri", "sign-out return address", spec.PostLogoutRedirectURIs, 0); err != nil {
		return err
	}
	if spec.BackchannelLogoutURI = strings.TrimSpace(spec.BackchannelLogoutURI); spec.BackchannelLogoutURI != "" {
		if err := p.checkURI("backchannel_logout_uri", "back-channel logout address", spec.BackchannelLogoutURI); err != nil {
			return err
		}
	}
	if spec.HomeURL = strings.TrimSpace(spec.HomeURL); spec.HomeURL != "" {
		if u, err := url.Parse(spec.HomeURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			len(spec.HomeURL) > maxURILength {
			return hmisauth.FieldError("home_url", "The home address must be a web address like https://hmis.example.org/.")
		}
	}
	for _, s := range spec.Scopes {
		if s == oidc.ScopeOpenID {
			continue
		}
		if !slices.Contains(supportedScopes, s) {
			return hmisauth.FieldError("scopes", fmt.Sprintf("%q is not a scope this server offers; choose from %s.",
				s, strings.Join(supportedScopes[1:], ", ")))
		}
	}
	switch spec.AccessTokenFormat {
	case "":
		spec.AccessTokenFormat = hmisauth.TokenOpaque
	case hmisauth.TokenOpaque, hmisauth.TokenJWT:
	default:
		return hmisauth.FieldError("access_token_format", "The access-token format must be opaque or jwt.")
	}
	switch {
	case spec.AccessTokenLifetime == 0:
		spec.AccessTokenLifetime = defaultAccessTokenLifetime
	case spec.AccessTokenLifetime < minAccessLifetime || spec.AccessTokenLifetime > maxAccessLifetime:
		return hmisauth.FieldError("access_token_lifetime", "Access tokens must live between 1 minute and 24 hours (10 minutes is usual).")
	case spec.AccessTokenLifetime%time.Minute != 0:
		return hmisauth.FieldError("access_token_lifetime", "Give the access-token lifetime in whole minutes, like 10m or 90m.")
	}
	return nil
}

// checkURIs trims and checks a list of addresses (at least `least` of them).
func (p *Provider) checkURIs(field, label string, uris []string, least int) ([]string, error) {
	var out []string
	for _, u := range uris {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	switch {
	case len(out) < least:
		return nil, hmisauth.FieldError(field, "Enter the application's "+label+": where it receives the user back, like https://hmis.example.org/oidc/callback.")
	case len(out) > maxURIs:
		return nil, hmisauth.FieldError(field, fmt.Sprintf("An application can have at most %d of these addresses.", maxURIs))
	}
	for _, u := range out {
		if err := p.checkURI(field, label, u); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkURI accepts an absolute https address without a fragment, or http on this machine
// (loopback, for development and tests) or when this server itself runs on http.
func (p *Provider) checkURI(field, label, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || len(raw) > maxURILength || u.User != nil {
		return hmisauth.FieldError(field, fmt.Sprintf("The %s %q is not a complete web address like https://hmis.example.org/oidc/callback.", label, raw))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return hmisauth.FieldError(field, fmt.Sprintf("The %s %q must not have a # part.", label, raw))
	}
	if _, bad := hmisauth.UnprintableRune(raw); bad || strings.ContainsAny(raw, " *") {
		return hmisauth.FieldError(field, fmt.Sprintf("The %s must be one exact address, without spaces or wildcards.", label))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) || strings.HasPrefix(p.publicURL, "http://") {
			return nil
		}
		return hmisauth.FieldError(field, fmt.Sprintf("The %s %q must use https (http only on this machine).", label, raw))
	}
	return hmisauth.FieldError(field, fmt.Sprintf("The %s %q must start with https://.", label, raw))
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientIDs are made of a slug of the name and random letters: hmis-7k2mq4.
var idEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

func newClientID(name string) string {
	var words []string
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }) {
		if w = auth.FoldASCII(w); w != "" {
			words = append(words, w)
		}
	}
	slug := strings.Join(words, "-")
	if len(slug) > 24 {
		slug = slug[:24]
	}
	b := make([]byte, 5)
	rand.Read(b)
	if slug == "" {
		slug = "app"
	}
	return slug + "-" + idEncoding.EncodeToString(b)[:6]
}

// ValidateClientID checks a client ID chosen in the configuration: 2 to 64 letters, digits,
// dot, hyphen and underscore.
func ValidateClientID(id string) error {
	if len(id) < 2 || len(id) > 64 {
		return hmisauth.FieldError("client_id", "A client ID must be 2 to 64 characters.")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return hmisauth.FieldError("client_id", "A client ID may use only letters, digits, and . - _.")
		}
	}
	return nil
}
