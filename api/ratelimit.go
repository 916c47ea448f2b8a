package api

import (
	"math"
	"net/http"
	"net/netip"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"golang.org/x/time/rate"
)

// FailureLimiter counts failed attempts per key (a client address, a
// customer) with a token bucket: burst failures at once, then one per
// every. Only failures spend tokens; a key with none left is refused
// until one refills, even with the right password.
type FailureLimiter struct {
	every time.Duration
	burst int
	// maxKeys bounds memory under a flood of distinct keys.
	maxKeys int

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

// NewFailureLimiter allows burst failures per key, then one per every.
func NewFailureLimiter(burst int, every time.Duration) *FailureLimiter {
	return &FailureLimiter{every: every, burst: burst, maxKeys: 10_000, keys: map[string]*rate.Limiter{}}
}

// Wait returns how long key must wait before its next attempt; 0 when it
// may try now.
func (l *FailureLimiter) Wait(now time.Time, key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.maxKeys {
			l.sweep(now)
			if len(l.keys) >= l.maxKeys {
				return l.every // under a flood, new keys wait too
			}
		}
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(l.every)))
}

// Fail records a failed attempt by key.
func (l *FailureLimiter) Fail(now time.Time, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.maxKeys {
			l.sweep(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = lim
	}
	lim.AllowN(now, 1)
}

// sweep forgets keys whose bucket is full again: they carry no history.
func (l *FailureLimiter) sweep(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}

// RetrievalLimits limits failed retrieval-password attempts per client
// address and per customer.
type RetrievalLimits struct {
	PerAddress  *FailureLimiter
	PerCustomer *FailureLimiter
}

// NewRetrievalLimits returns the hub's defaults: 10 failures per address,
// then one a minute; 20 per customer, then one every 3 minutes.
func NewRetrievalLimits() *RetrievalLimits {
	return &RetrievalLimits{
		PerAddress:  NewFailureLimiter(10, time.Minute),
		PerCustomer: NewFailureLimiter(20, 3*time.Minute),
	}
}

// wait returns how long the address and customer must wait.
func (rl *RetrievalLimits) wait(now time.Time, addr, customerID string) time.Duration {
	return max(rl.PerAddress.Wait(now, addr), rl.PerCustomer.Wait(now, customerID))
}

// fail records a failure for both.
func (rl *RetrievalLimits) fail(now time.Time, addr, customerID string) {
	rl.PerAddress.Fail(now, addr)
	rl.PerCustomer.Fail(now, customerID)
}

// clientAddress is the key of a request's client (hub.ClientKey).
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	return hub.ClientKey(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
}
