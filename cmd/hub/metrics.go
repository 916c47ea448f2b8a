package main

import (
	"context"
	"os"

	"github.com/felhom/hub/metrics"
)

// newMetrics builds the hub's metrics with its scrape-time fleet gauges.
func (m *Main) newMetrics() *metrics.Metrics {
	mt := metrics.New()
	build := currentBuild()
	mt.SetBuildInfo(build.Version, build.Commit, build.Go)
	thresholds := nodeThresholds(m.Config)
	mt.AddGauge("hub_customers", "Customers by status.", "status", func(ctx context.Context) (map[string]float64, error) {
		customers, err := m.DB.FindCustomers(ctx)
		if err != nil {
			return nil, err
		}
		now := m.Now()
		out := map[string]float64{}
		for _, s := range []string{"OK", "WARN", "DOWN", "DISABLED", "PENDING", "BLOCKED"} {
			out[s] = 0
		}
		for _, c := range customers {
			out[string(c.Status(now, thresholds))]++
		}
		return out, nil
	})
	mt.AddGauge("hub_hosts", "Hosts by dead man's switch state (unknown = never reported).", "state", func(ctx context.Context) (map[string]float64, error) {
		counts, err := m.DB.CountHostsByState(ctx)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{"unknown": 0, "up": 0, "stale": 0, "down": 0}
		for state, n := range counts {
			out[state] = float64(n)
		}
		return out, nil
	})
	// The database's size only where the hub owns it, a SQLite file: a
	// PostgreSQL server is measured by its own exporter, and its database
	// may hold more than one hub's data (pg_database_size would count it
	// all, once per replica).
	if m.DB.Driver() == "sqlite" {
		mt.AddGauge("hub_db_size_bytes", "Size of the SQLite database files (main file and WAL); not exported on PostgreSQL.", "", func(context.Context) (map[string]float64, error) {
			var total float64
			for _, suffix := range []string{"", "-wal"} {
				if st, err := os.Stat(m.DB.Path + suffix); err == nil {
					total += float64(st.Size())
				}
			}
			return map[string]float64{"": total}, nil
		})
	}
	mt.AddGauge("hub_notification_outbox", "Mails in the outbox: pending (being tried) and failed (given up).", "state", func(ctx context.Context) (map[string]float64, error) {
		stats, err := m.DB.FindOutboxStats(ctx)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{"pending": 0, "failed": 0}
		for _, s := range stats {
			out["pending"] += float64(s.Pending)
			out["failed"] += float64(s.Failed)
		}
		return out, nil
	})
	mt.AddLeases(m.leaseHeld())
	return mt
}
