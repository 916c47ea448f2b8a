package api

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/felhom/hub/store"
)

// TestFailureLimit checks the retrieval limits against the database: burst
// failures at once, then one per interval, an attempt given back (a right
// password) not counted, and scopes that keep an address and a customer of
// the same name apart.
func TestFailureLimit(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = func() time.Time { return now }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &Server{RateLimits: db, Retrieval: &RetrievalLimits{
		PerAddress:  FailureLimit{Scope: "test:addr:", Burst: 3, Every: time.Minute},
		PerCustomer: FailureLimit{Scope: "test:customer:", Burst: 100, Every: time.Second},
	}}
	// take takes an attempt; a refused one reports its wait.
	take := func(addr, customer string) time.Duration {
		t.Helper()
		w, err := s.takeRetrievalAttempt(ctx, addr, customer)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	// A right password gives its attempt back: any number pass.
	for i := range 10 {
		if w := take("a", "c"); w != 0 {
			t.Fatalf("attempt %d with refunds must not wait: %v", i, w)
		}
		s.refundRetrievalAttempt(ctx, "a", "c")
	}
	for i := range 3 {
		if w := take("a", "c"); w != 0 {
			t.Fatalf("failure %d must not wait: %v", i, w)
		}
	}
	if w := take("a", "c"); w != time.Minute {
		t.Fatalf("wait = %v, want 1m", w)
	}
	now = now.Add(45 * time.Second)
	if w := take("a", "c"); w != 15*time.Second {
		t.Fatalf("wait after 45 s = %v, want 15s", w)
	}
	now = now.Add(15 * time.Second)
	if w := take("a", "c"); w != 0 {
		t.Fatalf("wait after 1 m = %v, want 0", w)
	}
	if w := take("a", "c"); w != time.Minute {
		t.Fatalf("the attempt after 1 m was not counted: wait %v, want 1m", w)
	}
	if w := take("b", "c"); w != 0 {
		t.Fatalf("another address waits: %v", w)
	}
	// A customer named like the limited address is not limited.
	if w := take("b", "a"); w != 0 {
		t.Fatalf("the scopes collide: %v", w)
	}
}

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"ipv4", "192.0.2.1:1234", "", nil, "192.0.2.1"},
		{"ipv6 /64", "[2001:db8:1:2:3::4]:443", "", nil, "2001:db8:1:2::/64"},
		{"mapped", "[::ffff:192.0.2.9]:80", "", nil, "192.0.2.9"},
		{"garbage", "not-an-address", "", nil, "not-an-address"},
		{"header ignored without trusted proxies", "10.42.0.7:1", "198.51.100.1", nil, "10.42.0.7"},
		{"header ignored from an untrusted peer", "192.0.2.1:1", "198.51.100.1", trusted, "192.0.2.1"},
		{"trusted proxy", "10.42.0.7:1", "198.51.100.1", trusted, "198.51.100.1"},
		{"spoofed left entries are skipped", "10.42.0.7:1", "1.2.3.4, 198.51.100.1, 10.42.3.3", trusted, "198.51.100.1"},
		{"only proxies", "10.42.0.7:1", "10.42.9.9", trusted, "10.42.9.9"},
		{"garbled header", "10.42.0.7:1", "198.51.100.1, nonsense", trusted, "10.42.0.7"},
		{"ipv6 client via proxy", "[fd00::1]:1", "2001:db8:5:6::9", trusted, "2001:db8:5:6::/64"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientAddress(r, tt.trusted); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
