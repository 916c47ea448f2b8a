package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/felhom/hub/lease"
)

// The leases of the jobs that must run on one replica at a time when
// several hubs share a database. Each job has its own, so that replicas may
// share the work out.
const (
	leaseDailyJobs = "daily-jobs" // the daily jobs: backup check and prune
	leaseHistory   = "history"    // rollup and compaction; its watermarks assume one runner
	leaseDispatch  = "dispatch"   // event → notification decisions
	leaseRegistry  = "registry"   // the registry watcher
)

// openLeases acquires this replica's leases before the jobs they guard
// first look: a hub alone holds them all from the start (or, after a crash,
// once its previous run's leases expire, within lease.DefaultTTL).
//
// Two kinds of background work take no lease and run on every replica: the
// mail sender claims outbox rows with leases of their own (ClaimOutbox), and
// the staleness checker moves watches by compare-and-set, so a replica that
// loses the race stores nothing.
//
// On SQLite there is one hub per database file, so its owner id is the
// same from one run to the next: a hub restarted after a crash takes its
// leases back at once instead of waiting out the dead run's.
func (m *Main) openLeases(ctx context.Context) error {
	m.Owner = lease.NewOwner()
	if m.DB.Driver() == "sqlite" {
		m.Owner = "sqlite-hub"
	}
	m.Logger.Info("replica identity for leases", "owner", m.Owner)
	m.leases = map[string]*lease.Lease{}
	for _, name := range []string{leaseDailyJobs, leaseHistory, leaseDispatch, leaseRegistry} {
		l := lease.New(name, m.Owner, m.DB, m.Logger.With("component", "lease"))
		l.Now = m.Now
		if err := l.Open(ctx); err != nil {
			return err
		}
		m.leases[name] = l
	}
	return nil
}

// closeLeases releases the leases, so that another replica takes each at
// its next renewal. The jobs they guard are closed first. A second call
// does nothing.
func (m *Main) closeLeases(ctx context.Context) error {
	var errs []error
	for name, l := range m.leases {
		if err := l.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close lease %s: %w", name, err))
		}
	}
	m.leases = nil
	return errors.Join(errs...)
}

// leaseHeld returns, by lease name, whether this replica holds each.
func (m *Main) leaseHeld() map[string]func() bool {
	out := map[string]func() bool{}
	for name, l := range m.leases {
		out[name] = l.Held
	}
	return out
}
