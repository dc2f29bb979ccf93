package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

func TestTrustedProxiesAreRangesOrAddresses(t *testing.T) {
	c := mustLoad(t, "trusted_proxies: [10.0.0.0/8, 192.0.2.10, 'fd00::/8', '2001:db8::1']\n")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("2001:db8::1/128")}
	if got := c.TrustedProxyPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrustedProxyPrefixes() = %v, want %v", got, want)
	}
	c = mustLoad(t, "", "HMISAUTH_TRUSTED_PROXIES=[172.16.0.0/12]")
	if got := c.TrustedProxyPrefixes(); !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}) {
		t.Errorf("from the environment: %v", got)
	}
	if got := mustLoad(t, "").TrustedProxyPrefixes(); len(got) != 0 {
		t.Errorf("by default %v, want none: no header is believed", got)
	}
}

func TestTrustedProxiesRefuseWhatIsNotARange(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"not an address", "trusted_proxies: [proxy.example.org]\n", `config: trusted_proxies has "proxy.example.org", which is not an address like 192.0.2.10 or a CIDR range like 10.0.0.0/8 (line 1)`},
		{"bad octet", "trusted_proxies: [10.0.0.300]\n", `has "10.0.0.300", which is not an address`},
		{"bad range", "trusted_proxies: [10.0.0.0/33]\n", `has "10.0.0.0/33", which is not a CIDR range like 10.0.0.0/8`},
		{"host bits", "trusted_proxies: [10.1.2.3/8]\n", `has "10.1.2.3/8", whose address has bits past the /8 set; write 10.0.0.0/8`},
		{"everyone", "trusted_proxies: [0.0.0.0/0]\n", `has "0.0.0.0/0", which trusts every address`},
		{"everyone v6", "trusted_proxies: ['::/0']\n", `has "::/0", which trusts every address`},
		{"zone", "trusted_proxies: ['fe80::1%eth0']\n", `has "fe80::1%eth0", which is not an address`},
		{"mapped", "trusted_proxies: ['::ffff:10.0.0.0/104']\n", `write IPv4 addresses as IPv4`},
		{"empty", "trusted_proxies: ['']\n", `has "", which is not an address`},
		{"not a list", "trusted_proxies: 10.0.0.0/8\n", `config: trusted_proxies must be a list like [a, b]`},
		{"environment", "", `config: trusted_proxies has "10.0.0.1/8", whose address has bits past the /8 set; write 10.0.0.0/8 (set by HMISAUTH_TRUSTED_PROXIES)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if tc.name == "environment" {
				env = []string{"HMISAUTH_TRUSTED_PROXIES=[10.0.0.1/8]"}
			}
			if got := loadErr(t, tc.text, env...); !strings.Contains(got, tc.want) {
				t.Errorf("got %q\nwant it to contain %q", got, tc.want)
			}
		})
	}
}

func TestRateLimitsHaveDefaultsAndBounds(t *testing.T) {
	want := hmisauth.RateLimits{Window: 15 * time.Minute, SignInPerAddress: 100, SprayUsernames: 40, ResetPerAddress: 30}
	if got := mustLoad(t, "").Sites["live"].Policy.RateLimits; got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	c := mustLoad(t, site("rate_limits: {window: 1h, sign_in_per_address: 500, spraying_usernames: 80, reset_per_address: 5}"))
	if got := c.Sites["live"].Policy.RateLimits; got != (hmisauth.RateLimits{Window: time.Hour, SignInPerAddress: 500, SprayUsernames: 80, ResetPerAddress: 5}) {
		t.Errorf("set: %+v", got)
	}
	tests := []struct{ text, want string }{
		{site("rate_limits: {window: 30s}"), "config: sites.live.policy.rate_limits.window must be from 1m to 24h"},
		{site("rate_limits: {window: 25h}"), "config: sites.live.policy.rate_limits.window must be from 1m to 24h"},
		{site("rate_limits: {sign_in_per_address: 0}"), "config: sites.live.policy.rate_limits.sign_in_per_address must be from 1 to 1000000"},
		{site("rate_limits: {spraying_usernames: 0}"), "config: sites.live.policy.rate_limits.spraying_usernames must be from 1 to 1000000"},
		{site("rate_limits: {reset_per_address: -1}"), "config: sites.live.policy.rate_limits.reset_per_address must be from 1 to 1000000"},
		{site("rate_limits: {per_address: 5}"), `config: unknown key "sites.live.policy.rate_limits.per_address"`},
	}
	for _, tc := range tests {
		if got := loadErr(t, tc.text); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.text, got, tc.want)
		}
	}
}
