package main

import (
	"context"
	"testing"
	"time"

	"github.com/felhom/hub/store"
)

// TestMainHoldsAndReleasesLeases: a hub alone holds every lease from the
// start, says so on /metrics, and releases them on a clean shutdown, so
// that another replica takes them at once rather than after the TTL.
func TestMainHoldsAndReleasesLeases(t *testing.T) {
	m := MustRunMain(t, nil)
	if m.Owner == "" {
		t.Fatal("no replica owner id")
	}
	families := scrape(t, "http://"+m.Addr())
	names := []string{leaseDailyJobs, leaseHistory, leaseDispatch, leaseRegistry}
	for _, name := range names {
		if v := value(families, "hub_lease_held", map[string]string{"lease": name}); v != 1 {
			t.Errorf("hub_lease_held{lease=%q} = %v, want 1", name, v)
		}
	}
	path := databasePath(m.Config)
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.server, m.DB = nil, nil // closed already

	db := store.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range names {
		held, err := db.AcquireLease(context.Background(), name, "another-replica", time.Minute)
		if err != nil || !held {
			t.Errorf("lease %s after a clean shutdown: taken %v (%v), want at once", name, held, err)
		}
	}
}
