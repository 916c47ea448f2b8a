package api

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	hub "github.com/felhom/hub"
)

// FailureLimit limits failed attempts per key (a client address, a
// customer): Burst failures at once, then one per Every. Only failures
// count; a key that must wait is refused, even with the right password.
// The count is kept in the database (hub.RateLimitService), so that it
// holds across replicas and restarts. Attempts that pass the check at the
// same moment and then fail are all counted, so a parallel burst past the
// limit is paid back in full afterwards.
type FailureLimit struct {
	// Scope namespaces the keys in the shared table, such as
	// "retrieval:addr:".
	Scope string
	Burst int
	Every time.Duration
}

// limit is the rate limit of key.
func (l FailureLimit) limit(key string) hub.RateLimit {
	return hub.RateLimit{Key: l.Scope + key, Burst: l.Burst, Every: l.Every}
}

// RetrievalLimits limits failed retrieval-password attempts per client
// address and per customer.
type RetrievalLimits struct {
	PerAddress  FailureLimit
	PerCustomer FailureLimit
}

// NewRetrievalLimits returns the hub's defaults: 10 failures per address,
// then one a minute; 20 per customer, then one every 3 minutes.
func NewRetrievalLimits() *RetrievalLimits {
	return &RetrievalLimits{
		PerAddress:  FailureLimit{Scope: "retrieval:addr:", Burst: 10, Every: time.Minute},
		PerCustomer: FailureLimit{Scope: "retrieval:customer:", Burst: 20, Every: 3 * time.Minute},
	}
}

// limits are the rate limits of an address and a customer.
func (rl *RetrievalLimits) limits(addr, customerID string) []hub.RateLimit {
	return []hub.RateLimit{rl.PerAddress.limit(addr), rl.PerCustomer.limit(customerID)}
}

// retrievalWait returns how long the address and customer must wait. A
// limit that cannot be read is EUNAVAILABLE: the request is refused (503),
// never let through unchecked.
func (s *Server) retrievalWait(ctx context.Context, addr, customerID string) (time.Duration, error) {
	wait, err := s.RateLimits.RateLimitWait(ctx, s.Retrieval.limits(addr, customerID)...)
	if err != nil {
		return 0, hub.Unavailable(err, "the retrieval limits cannot be checked now; retry later")
	}
	return wait, nil
}

// retrievalFail records a failure for both; a failure that cannot be
// recorded is EUNAVAILABLE, so that it is not answered as an ordinary 401.
func (s *Server) retrievalFail(ctx context.Context, addr, customerID string) error {
	if err := s.RateLimits.AddRateLimitEvents(ctx, s.Retrieval.limits(addr, customerID)...); err != nil {
		return hub.Unavailable(err, "the retrieval limits cannot be recorded now; retry later")
	}
	return nil
}

// clientAddress is the key of a request's client (hub.ClientKey).
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	return hub.ClientKey(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
}
