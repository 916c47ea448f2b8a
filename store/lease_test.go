package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

func TestLeaseAcquireRenewExpireRelease(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	const ttl = 30 * time.Second
	acquire := func(step, owner string, want bool) {
		t.Helper()
		got, err := db.AcquireLease(ctx, "daily", owner, ttl)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got != want {
			t.Fatalf("%s: %s holds the lease: %v, want %v", step, owner, got, want)
		}
	}

	acquire("new lease", "a", true)
	acquire("held by a", "b", false)
	clock.Add(20 * time.Second)
	acquire("renewal", "a", true)
	clock.Add(25 * time.Second) // 45 s after the first grant, 25 s after the renewal
	acquire("renewed lease", "b", false)
	clock.Add(5 * time.Second) // exactly at expiry: still a's
	acquire("at expiry", "b", false)
	clock.Add(time.Millisecond)
	acquire("expired lease", "b", true)
	acquire("taken over", "a", false)

	// Other names are other leases.
	if held, err := db.AcquireLease(ctx, "history", "a", ttl); err != nil || !held {
		t.Fatalf("another lease: %v, %v", held, err)
	}

	// Releasing a lease one does not hold does nothing; the holder's
	// release hands it over at once.
	if err := db.ReleaseLease(ctx, "daily", "a"); err != nil {
		t.Fatal(err)
	}
	acquire("after a stranger's release", "a", false)
	if err := db.ReleaseLease(ctx, "daily", "b"); err != nil {
		t.Fatal(err)
	}
	acquire("after the holder's release", "a", true)

	if _, err := db.AcquireLease(ctx, "daily", "a", 0); hub.ErrorCode(err) != hub.EINVALID {
		t.Errorf("zero ttl: %v, want EINVALID", err)
	}
}
