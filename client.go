package hub

import (
	"net"
	"net/netip"
	"strings"
)

// ClientKey names the client of a request for rate limits: its IP, or its
// /64 for IPv6, where one host holds a whole prefix. remoteAddr is the
// connection's address; forwardedFor, the X-Forwarded-For values, is
// believed only from a trusted proxy (server.trusted_proxies): the client
// is then the right-most address in it that is not itself a trusted proxy.
func ClientKey(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap().WithZone("")
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(forwardedFor, ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled header: keep the last address we trust
			}
			addr = hop.Unmap().WithZone("")
			if !isTrusted(addr, trusted) {
				break
			}
		}
	}
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
