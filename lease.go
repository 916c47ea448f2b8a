package hub

import (
	"context"
	"time"
)

// LeaseService grants named leases: the right, for a while, to run a job
// that must run on one replica of the hub at a time. A lease is held by one
// owner until it expires; its holder renews it, and anyone may take it once
// it has expired.
type LeaseService interface {
	// AcquireLease takes the lease name for owner, or renews it, until ttl
	// from now, and reports whether owner holds it; false means another
	// owner holds it and it has not expired.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives up the lease name if owner holds it, so that
	// another owner can take it at once.
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Lease says whether this replica holds a named lease now.
type Lease interface {
	// Held reports whether the lease is held now.
	Held() bool
}

// LeaseHeld reports whether l is held; a nil Lease stands for a hub that
// runs alone, which always holds it.
func LeaseHeld(l Lease) bool { return l == nil || l.Held() }
