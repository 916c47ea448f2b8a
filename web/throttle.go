package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Login attempts allowed per client address and per account: a burst, then
// one attempt per interval. The account limit stops a guesser that spreads
// over many addresses; bcrypt's cost slows each guess further.
const (
	addressBurst    = 5
	addressInterval = 20 * time.Second
	accountBurst    = 20
	accountInterval = 6 * time.Second

	// maxTrackedAddresses bounds the memory an attacker can make the
	// throttle use; beyond it, addresses with a full bucket are forgotten.
	maxTrackedAddresses = 10000
)

// operatorAccount is the name of the dashboard's only account.
const operatorAccount = "operator"

// loginThrottle limits login attempts. Callers pass the time, so tests
// drive it with their own clock and never sleep.
type loginThrottle struct {
	mu        sync.Mutex
	addresses map[string]*rate.Limiter
	accounts  map[string]*rate.Limiter
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{addresses: map[string]*rate.Limiter{}, accounts: map[string]*rate.Limiter{}}
}

// allow reports whether a login attempt from address for account may go
// ahead at now, and counts it if so.
func (t *loginThrottle) allow(address, account string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.addresses) >= maxTrackedAddresses {
		forgetFull(t.addresses, addressBurst, now)
	}
	byAddress := limiterFor(t.addresses, address, addressInterval, addressBurst)
	byAccount := limiterFor(t.accounts, account, accountInterval, accountBurst)
	// Check both before spending either, so that a refusal by one limit
	// does not use up the other.
	if byAddress.TokensAt(now) < 1 || byAccount.TokensAt(now) < 1 {
		return false
	}
	byAddress.AllowN(now, 1)
	byAccount.AllowN(now, 1)
	return true
}

func limiterFor(m map[string]*rate.Limiter, key string, interval time.Duration, burst int) *rate.Limiter {
	l, ok := m[key]
	if !ok {
		l = rate.NewLimiter(rate.Every(interval), burst)
		m[key] = l
	}
	return l
}

// forgetFull drops the limiters that have refilled completely: forgetting
// them changes nothing.
func forgetFull(m map[string]*rate.Limiter, burst int, now time.Time) {
	for k, l := range m {
		if l.TokensAt(now) >= float64(burst) {
			delete(m, k)
		}
	}
}
