package controller

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
)

// PolicyError is a call the target policy refuses: a scheme other than
// https, or an address inside a network the hub must not reach.
type PolicyError struct {
	Reason string
}

func (e *PolicyError) Error() string { return "target refused by policy: " + e.Reason }

// addrRule is one special-purpose range: refused outright, or judged on
// the IPv4 addresses it embeds (translation ranges).
type addrRule struct {
	prefix netip.Prefix
	what   string
	// embedded returns the IPv4 addresses inside an address of the range;
	// nil refuses the whole range.
	embedded func(b [16]byte) []netip.Addr
}

// addrRules are the ranges a controller on the public internet never
// lives in (IANA's special-purpose registries): loopback, private,
// link-local, unspecified, shared (CGNAT), benchmarking, reserved,
// broadcast, multicast, documentation, discard, and the IPv6 forms that
// carry an IPv4 address, which are judged as that address (IPv4-mapped,
// NAT64, 6to4, Teredo) or refused where they never lead anywhere public
// (IPv4-compatible, local-use NAT64).
var addrRules = func() []addrRule {
	v4 := func(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }
	inverted := func(b []byte) netip.Addr { return netip.AddrFrom4([4]byte{^b[0], ^b[1], ^b[2], ^b[3]}) }
	rules := []struct {
		prefix, what string
		embedded     func(b [16]byte) []netip.Addr
	}{
		{"0.0.0.0/8", `"this network" (unspecified)`, nil},
		{"10.0.0.0/8", "private", nil},
		{"100.64.0.0/10", "shared (CGNAT)", nil},
		{"127.0.0.0/8", "loopback", nil},
		{"169.254.0.0/16", "link-local (cloud metadata)", nil},
		{"172.16.0.0/12", "private", nil},
		{"192.0.0.0/24", "IETF protocol assignment", nil},
		{"192.0.2.0/24", "documentation", nil},
		{"192.88.99.0/24", "6to4 relay anycast", nil},
		{"192.168.0.0/16", "private", nil},
		{"198.18.0.0/15", "benchmarking", nil},
		{"198.51.100.0/24", "documentation", nil},
		{"203.0.113.0/24", "documentation", nil},
		{"224.0.0.0/4", "multicast", nil},
		{"240.0.0.0/4", "reserved or broadcast", nil},
		// ::ffff:0:0/96 (IPv4-mapped) never gets here: CheckAddr unmaps
		// it first and judges the IPv4 address.
		{"::/96", "unspecified, loopback or IPv4-compatible", nil}, // ::, ::1, ::a.b.c.d (deprecated)
		{"::ffff:0:0:0/96", "IPv4-translated", func(b [16]byte) []netip.Addr { return []netip.Addr{v4(b[12:])} }},
		{"64:ff9b::/96", "NAT64", func(b [16]byte) []netip.Addr { return []netip.Addr{v4(b[12:])} }},
		{"64:ff9b:1::/48", "local-use NAT64", nil},
		{"100::/64", "discard", nil},
		// Teredo: the server's address, then the client's, inverted.
		{"2001::/32", "Teredo", func(b [16]byte) []netip.Addr { return []netip.Addr{v4(b[4:8]), inverted(b[12:])} }},
		{"2001:db8::/32", "documentation", nil},
		{"2002::/16", "6to4", func(b [16]byte) []netip.Addr { return []netip.Addr{v4(b[2:6])} }},
		{"3fff::/20", "documentation", nil},
		{"fc00::/7", "unique local (private)", nil},
		{"fe80::/10", "link-local", nil},
		{"fec0::/10", "site-local (deprecated)", nil},
		{"ff00::/8", "multicast", nil},
	}
	out := make([]addrRule, len(rules))
	for i, r := range rules {
		out[i] = addrRule{prefix: netip.MustParsePrefix(r.prefix), what: r.what, embedded: r.embedded}
	}
	return out
}()

// CheckAddr returns a *PolicyError for an address the hub must not call.
func CheckAddr(addr netip.Addr) error {
	if reason := refusal(addr); reason != "" {
		return &PolicyError{Reason: reason}
	}
	return nil
}

// refusal says why addr must not be called, or "" when it may.
func refusal(addr netip.Addr) string {
	// An IPv4-mapped address (::ffff:a.b.c.d) is its IPv4 address.
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return "invalid address"
	}
	for _, r := range addrRules {
		if !r.prefix.Contains(addr) {
			continue
		}
		if r.embedded == nil {
			return fmt.Sprintf("%s is in the %s range %s", addr, r.what, r.prefix)
		}
		for _, inner := range r.embedded(addr.As16()) {
			if reason := refusal(inner); reason != "" {
				return fmt.Sprintf("%s (%s %s) embeds %s: %s", addr, r.what, r.prefix, inner, reason)
			}
		}
	}
	return ""
}

// Policy decides which targets the client may call.
type Policy struct {
	// AllowInsecure permits http and every address (tests and labs).
	AllowInsecure bool
	// CheckTarget vets each resolved address and port before a connection
	// is made; nil means the package's CheckAddr on the address.
	CheckTarget func(netip.AddrPort) error
}

// CheckURL vets a target URL before any request: absolute, https (or http
// when insecure targets are allowed), no credentials in it.
func (p Policy) CheckURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowInsecure:
	case u.Scheme == "http":
		return &PolicyError{Reason: "plain http is not allowed (controllers.allow_insecure is off)"}
	default:
		return &PolicyError{Reason: fmt.Sprintf("scheme %q is not allowed", u.Scheme)}
	}
	if u.Host == "" || u.Hostname() == "" {
		return &PolicyError{Reason: "the URL has no host"}
	}
	if u.User != nil {
		return &PolicyError{Reason: "credentials in the URL are not allowed"}
	}
	if p.AllowInsecure {
		return nil
	}
	// A literal address is refused before dialing, for a clear message;
	// names are checked on what they resolve to, at dial time.
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil {
		port := uint16(443)
		if u.Scheme == "http" {
			port = 80
		}
		if n, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
			port = uint16(n)
		}
		return p.checkTarget(netip.AddrPortFrom(addr, port))
	}
	return nil
}

func (p Policy) checkTarget(target netip.AddrPort) error {
	if p.AllowInsecure {
		return nil
	}
	if p.CheckTarget != nil {
		return p.CheckTarget(target)
	}
	return CheckAddr(target.Addr())
}

// control is a net.Dialer Control hook: it runs after name resolution,
// on the very address about to be connected, so DNS rebinding and
// redirects to internal names cannot slip past.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	target, err := netip.ParseAddrPort(address)
	if err != nil {
		return &PolicyError{Reason: "unparseable address"}
	}
	return p.checkTarget(target)
}
