package api

import (
	"fmt"
	"net/http/httptest"
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
	tests := map[string]string{
		"192.0.2.1:1234":          "192.0.2.1",
		"[2001:db8:1:2:3::4]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.9]:80":   "192.0.2.9",
		"not-an-address":          "not-an-address",
	}
	for remote, want := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "10.9.9.9")
		if got := clientAddress(r); got != want {
			t.Errorf("%s → %s, want %s", remote, got, want)
		}
	}
}
