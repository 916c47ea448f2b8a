package api

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/felhom/hub/store"
)

// TestFailureLimit checks the retrieval limits against the database: burst
// failures at once, then one per interval, an attempt given back (a right
// password) not counted, scopes that keep an address and a customer of the
// same name apart, and only failures counted against a customer.
func TestFailureLimit(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = func() time.Time { return now }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &Server{RateLimits: db, Logger: slog.New(slog.DiscardHandler), Retrieval: &RetrievalLimits{
		PerAddress:  FailureLimit{Scope: "test:addr:", Burst: 3, Every: time.Minute},
		PerCustomer: FailureLimit{Scope: "test:customer:", Burst: 2, Every: time.Hour},
	}}
	// admit admits an attempt; a refused one reports its wait.
	admit := func(addr, customer string) time.Duration {
		t.Helper()
		w, err := s.admitRetrievalAttempt(ctx, addr, customer)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	// A right password gives its attempt back: any number pass, and the
	// customer is never charged.
	for i := range 10 {
		if w := admit("a", "c"); w != 0 {
			t.Fatalf("attempt %d with refunds must not wait: %v", i, w)
		}
		s.refundRetrievalAttempt(ctx, "a", "c")
	}
	if w, _ := db.RateLimitWait(ctx, s.Retrieval.PerCustomer.limit("c")); w != 0 {
		t.Fatalf("right passwords charged the customer: wait %v", w)
	}
	for i := range 3 {
		if w := admit("a", "x"); w != 0 {
			t.Fatalf("failure %d must not wait: %v", i, w)
		}
	}
	if w := admit("a", "x"); w != time.Minute {
		t.Fatalf("wait = %v, want 1m", w)
	}
	now = now.Add(45 * time.Second)
	if w := admit("a", "x"); w != 15*time.Second {
		t.Fatalf("wait after 45 s = %v, want 15s", w)
	}
	now = now.Add(15 * time.Second)
	if w := admit("a", "x"); w != 0 {
		t.Fatalf("wait after 1 m = %v, want 0", w)
	}
	if w := admit("a", "x"); w != time.Minute {
		t.Fatalf("the attempt after 1 m was not counted: wait %v, want 1m", w)
	}
	if w := admit("b", "x"); w != 0 {
		t.Fatalf("another address waits: %v", w)
	}
	// A customer named like the limited address is not limited.
	if w := admit("b", "a"); w != 0 {
		t.Fatalf("the scopes collide: %v", w)
	}

	// Failures of customer "c": two at once, then one an hour.
	for i := range 2 {
		if w, err := s.countRetrievalFailure(ctx, "c"); err != nil || w != 0 {
			t.Fatalf("customer failure %d: wait %v, %v", i, w, err)
		}
	}
	if w, err := s.countRetrievalFailure(ctx, "c"); err != nil || w != time.Hour {
		t.Fatalf("third customer failure: wait %v, %v; want 1h", w, err)
	}
	// While the customer's limit is spent, an address with a failure to
	// wait out is not admitted; a clean one is, and only once until it
	// is given back.
	if w := admit("b", "c"); w != 2*time.Minute {
		t.Fatalf("address with two failures, customer spent: wait %v, want 2m", w)
	}
	if w := admit("clean", "c"); w != 0 {
		t.Fatalf("clean address, customer spent: wait %v, want 0", w)
	}
	s.refundRetrievalAttempt(ctx, "clean", "c")
	if w := admit("clean", "c"); w != 0 {
		t.Fatalf("clean address after a right password: wait %v, want 0", w)
	}
	if w := admit("clean", "c"); w != time.Minute {
		t.Fatalf("address after a failure, customer spent: wait %v, want 1m", w)
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
