package api

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	hub "github.com/felhom/hub"
)

// FailureLimit limits failed attempts per key (a client address, a
// customer): Burst failures at once, then one per Every. Every attempt
// takes its event before the password is checked — one atomic step, so
// that attempts in parallel, on any replica, can never exceed the burst —
// and an attempt with the right password gives it back: only failures
// count. A key that must wait is refused, even with the right password.
// The count is kept in the database (hub.RateLimitService), so that it
// holds across replicas and restarts.
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

// takeRetrievalAttempt takes an attempt from the address's and the
// customer's limits, or returns how long they must wait. Limits that cannot
// be read or written are EUNAVAILABLE: the request is refused (503), never
// let through unchecked.
func (s *Server) takeRetrievalAttempt(ctx context.Context, addr, customerID string) (time.Duration, error) {
	limits := s.Retrieval.limits(addr, customerID)
	ok, err := s.RateLimits.TakeRateLimitEvents(ctx, limits...)
	if err != nil {
		return 0, hub.Unavailable(err, "the retrieval limits cannot be checked now; retry later")
	}
	if ok {
		return 0, nil
	}
	wait, err := s.RateLimits.RateLimitWait(ctx, limits...)
	if err != nil {
		return 0, hub.Unavailable(err, "the retrieval limits cannot be checked now; retry later")
	}
	return max(wait, time.Second), nil
}

// refundRetrievalAttempt gives back an attempt that did not fail. If that
// cannot be written the attempt stays counted, which errs on the safe side.
func (s *Server) refundRetrievalAttempt(ctx context.Context, addr, customerID string) {
	if err := s.RateLimits.RefundRateLimitEvents(ctx, s.Retrieval.limits(addr, customerID)...); err != nil {
		s.Logger.Warn("a retrieval attempt that did not fail stays counted", "customer_id", customerID, "error", err)
	}
}

// clientAddress is the key of a request's client (hub.ClientKey).
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	return hub.ClientKey(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
}
