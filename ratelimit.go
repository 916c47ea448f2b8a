package hub

import (
	"context"
	"time"
)

// RateLimit is a limit on the events of one key, such as the failed
// logins from one address: Burst events at once, then one per Every. It
// is a GCRA (generic cell rate algorithm): the only state of a key is its
// theoretical arrival time (tat), which each event moves to
// max(tat, now) + Every. The state lives in the database
// (RateLimitService), so that the limit holds across replicas and restarts.
type RateLimit struct {
	// Key names what is limited, namespaced by the limit's user, such as
	// "retrieval:addr:192.0.2.1". It is stored as is: never put a secret
	// in it.
	Key   string
	Burst int
	Every time.Duration
}

// Validate checks that the limit names a key and allows at least one
// event; the state is kept in milliseconds.
func (l RateLimit) Validate() error {
	if l.Key == "" || l.Burst < 1 || l.Every < time.Millisecond {
		return Errorf(EINVALID, "rate limit %q: needs a key, a burst of at least 1 and an interval of at least 1 ms", l.Key)
	}
	return nil
}

// Wait returns how long an event must wait at now when the key's
// theoretical arrival time is tat: 0 when it may happen now. It matches a
// token bucket of Burst tokens refilled one per Every, whose tokens at now
// are Burst - (tat-now)/Every.
func (l RateLimit) Wait(tat, now time.Time) time.Duration {
	return max(0, tat.Sub(now)-time.Duration(l.Burst-1)*l.Every)
}

// RateLimitService keeps the state of rate limits, shared by every replica
// of the hub.
type RateLimitService interface {
	// RateLimitWait returns how long until every one of limits allows an
	// event; 0 when all of them allow one now.
	RateLimitWait(ctx context.Context, limits ...RateLimit) (time.Duration, error)
	// AddRateLimitEvents counts one event against each of limits, allowed
	// or not; concurrent calls, from any replica, are all counted.
	AddRateLimitEvents(ctx context.Context, limits ...RateLimit) error
	// TakeRateLimitEvents counts one event against each of limits if every
	// one of them allows it now, and none otherwise; it reports whether
	// they did. The check and the count are one atomic step.
	TakeRateLimitEvents(ctx context.Context, limits ...RateLimit) (bool, error)
	// RefundRateLimitEvents gives back one event taken from each of
	// limits, for an attempt that turned out not to count (a right
	// password).
	RefundRateLimitEvents(ctx context.Context, limits ...RateLimit) error
}
