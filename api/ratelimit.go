package api

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	hub "github.com/felhom/hub"
)

// FailureLimit limits failed attempts per key (a client address, a
// customer): Burst failures at once, then one per Every. The count is kept
// in the database (hub.RateLimitService), so that it holds across replicas
// and restarts; every step that decides is one atomic statement there, so
// that attempts in parallel, on any replica, can never exceed the burst.
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

// clean is the limit of key with a burst of one: it allows an event only
// while the key has no failure left to wait out, and counts one like limit.
func (l FailureLimit) clean(key string) hub.RateLimit {
	return hub.RateLimit{Key: l.Scope + key, Burst: 1, Every: l.Every}
}

// RetrievalLimits limits failed retrieval-password attempts per client
// address and per customer.
//
// The right password must always work, so only failures count against the
// customer, and only after the password is checked: a customer whose
// limit is spent by guessers still gets in with the right password. The
// address limit is taken before the check (an address that has spent it
// is refused, right password or not) and given back when the password is
// right. While the customer's limit is spent, an address gets a check only
// when it has no failure of its own left to wait out: the guessers lose
// their bursts, an honest address that has not failed goes on.
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

// errLimitsUnavailable is the answer when an attempt cannot be counted: it
// is refused (503), never let through unchecked.
func errLimitsUnavailable(err error) error {
	return hub.Unavailable(err, "the retrieval limits cannot be checked now; retry later")
}

// admitRetrievalAttempt takes an attempt from the address's limit before
// the password is checked, or returns how long the address must wait. While
// the customer's limit is spent, only an address without failures to wait
// out is admitted.
func (s *Server) admitRetrievalAttempt(ctx context.Context, addr, customerID string) (time.Duration, error) {
	customerWait, err := s.RateLimits.RateLimitWait(ctx, s.Retrieval.PerCustomer.limit(customerID))
	if err != nil {
		return 0, errLimitsUnavailable(err)
	}
	limit := s.Retrieval.PerAddress.limit(addr)
	if customerWait > 0 {
		limit = s.Retrieval.PerAddress.clean(addr)
	}
	return s.takeOrWait(ctx, limit)
}

// countRetrievalFailure counts a failed attempt against the customer, or
// returns how long the customer's limit must be waited out when it has no
// room for another failure (the attempt is then refused, not told wrong).
func (s *Server) countRetrievalFailure(ctx context.Context, customerID string) (time.Duration, error) {
	return s.takeOrWait(ctx, s.Retrieval.PerCustomer.limit(customerID))
}

// takeOrWait takes an event from limit in one atomic step, or returns how
// long until it allows one (at least a second).
func (s *Server) takeOrWait(ctx context.Context, limit hub.RateLimit) (time.Duration, error) {
	ok, err := s.RateLimits.TakeRateLimitEvents(ctx, limit)
	if err != nil {
		return 0, errLimitsUnavailable(err)
	}
	if ok {
		return 0, nil
	}
	wait, err := s.RateLimits.RateLimitWait(ctx, limit)
	if err != nil {
		return 0, errLimitsUnavailable(err)
	}
	return max(wait, time.Second), nil
}

// refundRetrievalAttempt gives the address back an attempt that did not
// fail. If that cannot be written the attempt stays counted, which errs on
// the safe side.
func (s *Server) refundRetrievalAttempt(ctx context.Context, addr, customerID string) {
	if err := s.RateLimits.RefundRateLimitEvents(ctx, s.Retrieval.PerAddress.limit(addr)); err != nil {
		s.Logger.Warn("a retrieval attempt that did not fail stays counted", "customer_id", customerID, "error", err)
	}
}

// clientAddress is the key of a request's client (hub.ClientKey).
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	return hub.ClientKey(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
}
