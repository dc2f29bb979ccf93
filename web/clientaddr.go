package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds the forwarding entries read from the right: no real chain of proxies comes
// near it, and a header of thousands of entries must not cost more than a few.
const maxHops = 16

// clientAddr is the address the request came from, for the audit log, the rate limits, the
// session record and the logs. It is the socket's peer, unless the peer is one of
// Options.TrustedProxies: then the forwarding headers are believed as far as trusted proxies
// wrote them (see clientAddrOf). Without trusted proxies no header is read, so no client can
// choose the address it is recorded and limited under.
func (s *Server) clientAddr(r *http.Request) string {
	return clientAddrOf(r.RemoteAddr, r.Header, s.opt.TrustedProxies)
}

// clientAddrOf is clientAddr's rule. A trusted proxy adds the address it received the request
// from to the right of X-Forwarded-For or of Forwarded (RFC 7239, its for= parameter); what
// stands left of that is whatever the client sent. So the entries are read from the right,
// passing over the addresses of trusted proxies (a chain of them), and the first address that
// is not a trusted proxy is the client. When every entry is a trusted proxy, the leftmost is
// the client (someone on the proxies' own network).
//
// The peer is the answer whenever the headers cannot be believed: an entry on the way that is
// not an address ("unknown", an obfuscated _name, garbage), more than maxHops entries, or the
// two headers naming different clients (a proxy keeps one of them; the other may be the
// client's own invention, and which is which cannot be told from here).
func clientAddrOf(remoteAddr string, h http.Header, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return remoteAddr // not an IP socket (a test's or a Unix socket's): nothing to trust
	}
	p := peer.Addr().Unmap()
	if len(trusted) == 0 || !isTrusted(p, trusted) {
		return p.String()
	}
	xff, xok := fromRight(forwardedFor(h.Values("X-Forwarded-For")), trusted)
	fwd, fok := fromRight(forwardedParam(h.Values("Forwarded")), trusted)
	switch {
	case xok && fok && xff != fwd:
		return p.String()
	case xok:
		return xff.String()
	case fok:
		return fwd.String()
	}
	return p.String()
}

// isTrusted reports whether a is inside one of the trusted prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.WithZone("")
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fromRight finds the client among hops (left to right, as the headers list them; nil entries
// are not addresses): the rightmost that is not a trusted proxy, or the leftmost when all are.
// It reports false when the hops cannot be believed (see clientAddrOf) or there are none.
func fromRight(hops []*netip.Addr, trusted []netip.Prefix) (netip.Addr, bool) {
	if len(hops) == 0 || len(hops) > maxHops {
		return netip.Addr{}, false
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a := hops[i]
		if a == nil {
			return netip.Addr{}, false
		}
		if !isTrusted(*a, trusted) || i == 0 {
			return *a, true
		}
	}
	return netip.Addr{}, false
}

// forwardedFor splits X-Forwarded-For values (one or several header lines, in order) into
// hops. More than maxHops makes the list too long to believe, and is cut short there.
func forwardedFor(values []string) []*netip.Addr {
	var hops []*netip.Addr
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if hops = append(hops, parseHop(e)); len(hops) > maxHops {
				return hops
			}
		}
	}
	return hops
}

// forwardedParam reads the for= of each element of Forwarded values (RFC 7239: elements
// separated by commas, pairs by semicolons, values a token or a quoted string). An element
// without for= is a hop that is not an address.
func forwardedParam(values []string) []*netip.Addr {
	var hops []*netip.Addr
	for _, v := range values {
		for _, elem := range splitUnquoted(v, ',') {
			var hop *netip.Addr
			for _, pair := range splitUnquoted(elem, ';') {
				name, value, _ := strings.Cut(pair, "=")
				if strings.EqualFold(strings.TrimSpace(name), "for") {
					hop = parseHop(value)
					break
				}
			}
			if hops = append(hops, hop); len(hops) > maxHops {
				return hops
			}
		}
	}
	return hops
}

// splitUnquoted splits s at each sep outside double quotes. A backslash inside quotes escapes
// the next character.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// parseHop reads one forwarding entry: an IPv4 or IPv6 address, with or without a port
// (192.0.2.7:4711, [2001:db8::1]:443), perhaps quoted. IPv4 written as IPv6 (::ffff:192.0.2.7)
// is taken as the IPv4 address, so it counts as one client. Anything else ("unknown", an
// obfuscated _name, a zone, garbage) is nil.
func parseHop(s string) *netip.Addr {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
				return nil
			}
			// RFC 7239 brackets an IPv6 address even without a port.
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil || !a.Is6() {
				return nil
			}
		} else {
			a = ap.Addr()
		}
	}
	if a.Zone() != "" {
		return nil
	}
	a = a.Unmap()
	return &a
}
