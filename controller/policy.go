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

// blockedPrefixes are the special-purpose ranges a controller on the public
// internet never lives in: loopback, private, link-local, unspecified,
// shared (CGNAT), benchmarking, reserved, multicast and documentation.
// Translation ranges (NAT64, 6to4, Teredo) are checked on the IPv4 address
// they embed.
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network", unspecified
		"10.0.0.0/8",     // private
		"100.64.0.0/10",  // shared address space (CGNAT)
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, cloud metadata
		"172.16.0.0/12",  // private
		"192.0.0.0/24",   // IETF protocol assignments
		"192.168.0.0/16", // private
		"198.18.0.0/15",  // benchmarking
		"224.0.0.0/4",    // multicast
		"240.0.0.0/4",    // reserved, broadcast
		"::/128",         // unspecified
		"::1/128",        // loopback
		"fc00::/7",       // unique local
		"fe80::/10",      // link-local
		"ff00::/8",       // multicast
		"100::/64",       // discard
		"2001:db8::/32",  // documentation
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// translationPrefixes embed an IPv4 address whose own policy applies.
var (
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredoPrefix = netip.MustParsePrefix("2001::/32")
)

// CheckAddr returns a *PolicyError for an address the hub must not call.
func CheckAddr(addr netip.Addr) error {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return &PolicyError{Reason: "invalid address"}
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return &PolicyError{Reason: fmt.Sprintf("%s is a loopback, private, link-local or reserved address", addr)}
		}
	}
	if addr.Is6() {
		b := addr.As16()
		var embedded netip.Addr
		switch {
		case nat64Prefix.Contains(addr):
			embedded = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(addr):
			embedded = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		case teredoPrefix.Contains(addr):
			// Teredo's client address is stored inverted.
			embedded = netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		}
		if embedded.IsValid() {
			if err := CheckAddr(embedded); err != nil {
				return &PolicyError{Reason: fmt.Sprintf("%s embeds %s", addr, embedded)}
			}
		}
	}
	return nil
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
