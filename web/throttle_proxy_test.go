package web_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/felhom/hub/web"
)

// TestLoginThrottleBehindTrustedProxy is the regression test of a finding:
// behind the ingress every login comes from the ingress's address, and the
// login throttle ignored server.trusted_proxies, so five wrong guesses from
// anywhere locked the operator out for everyone. Now each client behind a
// trusted proxy has its own bucket, and a client that is not a trusted
// proxy still cannot choose its address with the header.
func TestLoginThrottleBehindTrustedProxy(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16")} })
	login := func(remote, forwarded, password string) int {
		req := httptestRequest("POST", "/login", url.Values{"password": {password}})
		req.RemoteAddr = remote
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		return serve(h, req).StatusCode
	}
	const ingress = "10.42.0.7:33000"
	for range 5 {
		if got := login(ingress, "203.0.113.66", "guess"); got != http.StatusUnauthorized {
			t.Fatalf("guess: %d", got)
		}
	}
	if got := login(ingress, "203.0.113.66", testPassword); got != http.StatusTooManyRequests {
		t.Errorf("the guesser's sixth attempt: %d, want 429", got)
	}
	// The operator, through the same ingress, is not locked out.
	if got := login(ingress, "198.51.100.20", testPassword); got != http.StatusSeeOther {
		t.Errorf("the operator through the ingress: %d, want 303", got)
	}
	// A client that is not a trusted proxy cannot pick its address.
	for range 5 {
		login("192.0.2.99:1", "198.51.100.21", "guess")
	}
	if got := login("192.0.2.99:1", "198.51.100.22", testPassword); got != http.StatusTooManyRequests {
		t.Errorf("an untrusted client naming another address: %d, want 429", got)
	}
}
