package web

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// proxies are the trusted proxies of the address tests: a private range, one address, and an
// IPv6 range.
var proxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
	netip.MustParsePrefix("fd00::/8")}

func TestClientAddrBelievesOnlyTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		peer    string
		xff     []string // X-Forwarded-For lines
		fwd     []string // Forwarded lines
		trusted []netip.Prefix
		want    string
	}{
		// Whoever is not a trusted proxy is the client, whatever it claims.
		{"untrusted peer, forged X-Forwarded-For", "198.51.100.4:5555", []string{"203.0.113.9"}, nil, proxies, "198.51.100.4"},
		{"untrusted peer, forged Forwarded", "198.51.100.4:5555", nil, []string{"for=203.0.113.9"}, proxies, "198.51.100.4"},
		{"no trusted proxies at all", "10.0.0.5:5555", []string{"203.0.113.9"}, []string{"for=203.0.113.9"}, nil, "10.0.0.5"},
		{"untrusted IPv6 peer", "[2001:db8::5]:443", []string{"203.0.113.9"}, nil, proxies, "2001:db8::5"},
		{"IPv4 peer written as IPv6", "[::ffff:198.51.100.4]:80", nil, nil, proxies, "198.51.100.4"},
		{"not an IP socket", "pipe", []string{"203.0.113.9"}, nil, proxies, "pipe"},

		// From a trusted proxy: the rightmost entry that is not a proxy.
		{"trusted peer, no header", "10.0.0.5:5555", nil, nil, proxies, "10.0.0.5"},
		{"one entry", "10.0.0.5:5555", []string{"203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"the client's own entries are left of ours", "10.0.0.5:5555", []string{"6.6.6.6, 203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"a chain of proxies", "10.0.0.5:5555", []string{"6.6.6.6, 203.0.113.9, 192.0.2.10, 10.1.1.1"}, nil, proxies, "203.0.113.9"},
		{"several header lines", "10.0.0.5:5555", []string{"6.6.6.6", "203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"a port", "10.0.0.5:5555", []string{"203.0.113.9:4711"}, nil, proxies, "203.0.113.9"},
		{"IPv6", "10.0.0.5:5555", []string{" 2001:db8::7 "}, nil, proxies, "2001:db8::7"},
		{"IPv6 with port", "10.0.0.5:5555", []string{"[2001:db8::7]:443"}, nil, proxies, "2001:db8::7"},
		{"IPv4 written as IPv6", "10.0.0.5:5555", []string{"::ffff:203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"IPv6 proxy", "[fd00::1]:443", []string{"203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"IPv4 proxy seen as IPv6", "[::ffff:10.0.0.5]:443", []string{"203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"garbage left of the client is never reached", "10.0.0.5:5555", []string{"unknown, <script>, 203.0.113.9"}, nil, proxies, "203.0.113.9"},
		{"everyone a proxy: the leftmost", "10.0.0.5:5555", []string{"10.1.2.3, 10.0.0.7"}, nil, proxies, "10.1.2.3"},

		// What cannot be believed falls back to the peer.
		{"unknown", "10.0.0.5:5555", []string{"unknown"}, nil, proxies, "10.0.0.5"},
		{"unknown behind a proxy", "10.0.0.5:5555", []string{"203.0.113.9, unknown, 10.0.0.7"}, nil, proxies, "10.0.0.5"},
		{"a name", "10.0.0.5:5555", []string{"proxy.example.org"}, nil, proxies, "10.0.0.5"},
		{"empty last entry", "10.0.0.5:5555", []string{"203.0.113.9,"}, nil, proxies, "10.0.0.5"},
		{"empty header", "10.0.0.5:5555", []string{""}, nil, proxies, "10.0.0.5"},
		{"a zone", "10.0.0.5:5555", []string{"fe80::1%eth0"}, nil, proxies, "10.0.0.5"},
		{"IPv4 in brackets", "10.0.0.5:5555", []string{"[203.0.113.9]"}, nil, proxies, "10.0.0.5"},
		{"port out of range", "10.0.0.5:5555", []string{"203.0.113.9:99999"}, nil, proxies, "10.0.0.5"},
		{"too many entries", "10.0.0.5:5555", []string{"203.0.113.9" + strings.Repeat(", 10.0.0.7", maxHops)}, nil, proxies, "10.0.0.5"},

		// RFC 7239.
		{"Forwarded", "10.0.0.5:5555", nil, []string{"for=203.0.113.9;proto=https;by=10.0.0.5"}, proxies, "203.0.113.9"},
		{"Forwarded names are case-blind", "10.0.0.5:5555", nil, []string{"By=10.0.0.5;FOR=203.0.113.9"}, proxies, "203.0.113.9"},
		{"Forwarded quoted IPv6 with port", "10.0.0.5:5555", nil, []string{`for="[2001:db8:cafe::17]:4711"`}, proxies, "2001:db8:cafe::17"},
		{"Forwarded bracketed IPv6", "10.0.0.5:5555", nil, []string{`for="[2001:db8:cafe::17]"`}, proxies, "2001:db8:cafe::17"},
		{"Forwarded chain", "10.0.0.5:5555", nil, []string{"for=6.6.6.6, for=203.0.113.9", "for=10.0.0.7;proto=http"}, proxies, "203.0.113.9"},
		{"Forwarded obfuscated", "10.0.0.5:5555", nil, []string{"for=_hidden"}, proxies, "10.0.0.5"},
		{"Forwarded unknown", "10.0.0.5:5555", nil, []string{"for=unknown"}, proxies, "10.0.0.5"},
		{"Forwarded without for", "10.0.0.5:5555", nil, []string{"proto=https;by=10.0.0.5"}, proxies, "10.0.0.5"},
		{"Forwarded comma inside quotes", "10.0.0.5:5555", nil, []string{`for="203.0.113.9, 10.0.0.7"`}, proxies, "10.0.0.5"},
		{"Forwarded unterminated quote", "10.0.0.5:5555", nil, []string{`for="203.0.113.9`}, proxies, "10.0.0.5"},

		// Both headers: believed only when they agree.
		{"both agree", "10.0.0.5:5555", []string{"203.0.113.9"}, []string{"for=203.0.113.9"}, proxies, "203.0.113.9"},
		{"both disagree", "10.0.0.5:5555", []string{"203.0.113.9"}, []string{"for=6.6.6.6"}, proxies, "10.0.0.5"},
		{"one says nothing", "10.0.0.5:5555", []string{"203.0.113.9"}, []string{"for=unknown"}, proxies, "203.0.113.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.xff {
				h.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				h.Add("Forwarded", v)
			}
			if got := clientAddrOf(tc.peer, h, tc.trusted); got != tc.want {
				t.Errorf("clientAddrOf(%q, %v) = %q, want %q", tc.peer, h, got, tc.want)
			}
		})
	}
}

// FuzzClientAddr feeds the forwarding headers anything: whatever they hold, the answer is an
// address, an untrusted peer is always its own client, and any other answer is one the
// headers named.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.5:5555", "6.6.6.6, 203.0.113.9", "for=203.0.113.9")
	f.Add("10.0.0.5:5555", "[2001:db8::7]:443", `for="[2001:db8:cafe::17]:4711";proto=https`)
	f.Add("198.51.100.4:1", "203.0.113.9", "for=_hidden, for=unknown")
	f.Add("[fd00::1]:443", "unknown,,::ffff:1.2.3.4", `for="\"x";by=1`)
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		h := http.Header{"X-Forwarded-For": {xff}, "Forwarded": {fwd}}
		got := clientAddrOf(peer, h, proxies)
		ap, err := netip.ParseAddrPort(peer)
		if err != nil {
			if got != peer {
				t.Fatalf("peer %q is no address, yet the client is %q", peer, got)
			}
			return
		}
		p := ap.Addr().Unmap()
		if !isTrusted(p, proxies) {
			if got != p.String() {
				t.Fatalf("untrusted peer %s, yet the client is %q", p, got)
			}
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("client %q is not an address", got)
		}
		if a == p {
			return
		}
		for _, hop := range append(forwardedFor(h.Values("X-Forwarded-For")), forwardedParam(h.Values("Forwarded"))...) {
			if hop != nil && *hop == a {
				return
			}
		}
		t.Fatalf("client %s is neither the peer nor named by X-Forwarded-For %q or Forwarded %q", a, xff, fwd)
	})
}
