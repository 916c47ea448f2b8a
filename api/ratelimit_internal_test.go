package api

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestFailureLimiter(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	l := NewFailureLimiter(3, time.Minute)
	for i := range 3 {
		if w := l.Wait(now, "a"); w != 0 {
			t.Fatalf("attempt %d must not wait: %v", i, w)
		}
		l.Fail(now, "a")
	}
	if w := l.Wait(now, "a"); w != time.Minute {
		t.Fatalf("wait = %v, want 1m", w)
	}
	if w := l.Wait(now.Add(45*time.Second), "a"); w != 15*time.Second {
		t.Fatalf("wait after 45 s = %v, want 15s", w)
	}
	if w := l.Wait(now.Add(time.Minute), "a"); w != 0 {
		t.Fatalf("wait after 1 m = %v, want 0", w)
	}
	if w := l.Wait(now, "b"); w != 0 {
		t.Fatalf("another key waits: %v", w)
	}
}

func TestFailureLimiterBoundsMemory(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	l := NewFailureLimiter(2, time.Minute)
	l.maxKeys = 100
	for i := range 100 {
		l.Fail(now, fmt.Sprint(i))
	}
	// Full of fresh failures: a new key must wait rather than grow the map.
	if w := l.Wait(now, "new"); w == 0 {
		t.Error("a flood of keys lets new keys through unlimited")
	}
	// Once they have refilled, they are swept and new keys are free again.
	later := now.Add(10 * time.Minute)
	if w := l.Wait(later, "new"); w != 0 {
		t.Errorf("after refill wait = %v", w)
	}
	l.Fail(later, "new")
	if len(l.keys) > 100 {
		t.Errorf("%d keys kept, cap 100", len(l.keys))
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
