package controller

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"
)

// policyCases are addresses from every special-purpose range, with whether
// the policy must refuse them (allow_insecure off).
var policyCases = []struct {
	addr    string
	refused bool
}{
	// IPv4 special-purpose ranges.
	{"0.0.0.0", true},
	{"0.1.2.3", true},
	{"10.0.0.1", true},
	{"10.255.255.255", true},
	{"100.64.0.1", true},
	{"100.127.255.254", true},
	{"127.0.0.1", true},
	{"127.255.255.254", true},
	{"169.254.169.254", true},
	{"172.16.0.1", true},
	{"172.31.255.255", true},
	{"192.0.0.8", true},
	{"192.0.2.10", true},
	{"192.88.99.1", true},
	{"192.168.1.10", true},
	{"198.18.0.1", true},
	{"198.19.255.255", true},
	{"198.51.100.7", true},
	{"203.0.113.5", true},
	{"224.0.0.1", true},
	{"239.255.255.250", true},
	{"240.0.0.1", true},
	{"255.255.255.255", true},
	// Public IPv4, and the edges just outside the ranges.
	{"1.1.1.1", false},
	{"8.8.8.8", false},
	{"100.63.255.255", false},
	{"100.128.0.0", false},
	{"172.15.255.255", false},
	{"172.32.0.0", false},
	{"198.17.255.255", false},
	{"198.20.0.0", false},
	{"223.255.255.255", false},

	// IPv6 special-purpose ranges.
	{"::", true},
	{"::1", true},
	{"::127.0.0.1", true}, // IPv4-compatible, the finding
	{"::a00:1", true},     // ::10.0.0.1
	{"::808:808", true},   // ::8.8.8.8: deprecated, never public
	{"::1.1.1.1", true},
	{"100::1", true},
	{"100::ffff:ffff:ffff:ffff", true},
	{"2001:db8::1", true},
	{"3fff::1", true},
	{"fc00::1", true},
	{"fd12:3456::1", true},
	{"fe80::1", true},
	{"febf::1", true},
	{"fec0::1", true},
	{"ff02::1", true},
	{"ff0e::1", true},
	{"64:ff9b:1::1", true},
	{"64:ff9b:1:ffff::808:808", true},
	// IPv4-mapped: judged as the IPv4 address.
	{"::ffff:127.0.0.1", true},
	{"::ffff:10.1.2.3", true},
	{"::ffff:169.254.169.254", true},
	{"::ffff:0.0.0.0", true},
	{"::ffff:8.8.8.8", false},
	// IPv4-translated (SIIT).
	{"::ffff:0:7f00:1", true},
	{"::ffff:0:808:808", false},
	// NAT64: judged as the embedded IPv4 address.
	{"64:ff9b::127.0.0.1", true},
	{"64:ff9b::a00:1", true},
	{"64:ff9b::c0a8:101", true},
	{"64:ff9b::808:808", false},
	// 6to4: judged as the embedded IPv4 address.
	{"2002:7f00:1::1", true},
	{"2002:c0a8:101::1", true},
	{"2002:a9fe:a9fe::1", true},
	{"2002:808:808::1", false},
	// Teredo: server and (inverted) client address both judged.
	{"2001:0:7f00:1:0:0:f7f7:f7f7", true},   // server 127.0.0.1
	{"2001:0:808:808:0:0:80ff:fffe", true},  // client ^ = 127.0.0.1
	{"2001:0:808:808:0:0:f7f7:f7f7", false}, // server 8.8.8.8, client 8.8.8.8
	// Public IPv6.
	{"2606:4700:4700::1111", false},
	{"2a00:1450:4001:80b::200e", false},
	// Zones do not help.
	{"fe80::1%eth0", true},
}

// TestPolicyRanges checks every range at the dial-time hook (the check on
// the resolved address that DNS rebinding cannot bypass) and on a literal
// URL, with allow_insecure off and on.
func TestPolicyRanges(t *testing.T) {
	for _, tt := range policyCases {
		addr := netip.MustParseAddr(tt.addr)
		target := netip.AddrPortFrom(addr, 443).String()
		literal := &url.URL{Scheme: "https", Host: netip.AddrPortFrom(addr.WithZone(""), 443).String(), Path: "/"}
		t.Run(tt.addr, func(t *testing.T) {
			for _, insecure := range []bool{false, true} {
				p := Policy{AllowInsecure: insecure}
				wantRefused := tt.refused && !insecure
				var pe *PolicyError
				err := p.control("tcp", target, nil)
				if got := errors.As(err, &pe); got != wantRefused {
					t.Errorf("allow_insecure=%v: dial to %s: %v, refused want %v", insecure, target, err, wantRefused)
				}
				err = p.CheckURL(literal)
				if got := errors.As(err, &pe); got != wantRefused {
					t.Errorf("allow_insecure=%v: URL %s: %v, refused want %v", insecure, literal, err, wantRefused)
				}
			}
			if err := CheckAddr(addr); (err != nil) != tt.refused {
				t.Errorf("CheckAddr(%s) = %v, refused want %v", addr, err, tt.refused)
			}
		})
	}
}

// Every rule is exercised by a case, so that a range added without a test
// fails here.
func TestPolicyRulesAreAllTested(t *testing.T) {
	for _, r := range addrRules {
		seen := false
		for _, tt := range policyCases {
			if tt.refused && r.prefix.Contains(netip.MustParseAddr(tt.addr).WithZone("")) {
				seen = true
			}
		}
		if !seen {
			t.Errorf("no refused case in %s (%s)", r.prefix, r.what)
		}
	}
}
