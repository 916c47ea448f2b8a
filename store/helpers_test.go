package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

// newConfig returns a valid managed config with fresh credentials.
func newConfig(id string) *hub.CustomerConfig {
	cfg := &hub.CustomerConfig{CustomerID: id, DisplayName: "Customer " + id, Domain: id + ".felhom.eu", Status: hub.ConfigActive}
	cfg.MintCredentials()
	return cfg
}

// realisticReport builds a controller report of roughly size bytes with the
// shape of a real one: containers make up the bulk.
func realisticReport(tb testing.TB, size int) []byte {
	tb.Helper()
	containers := []map[string]string{}
	report := map[string]any{
		"customer_id": "bench-customer", "reported_at": "2026-11-22T09:45:03Z",
		"controller_version": "v1.4.2", "controller_url": "https://bench.felhom.eu", "health": "ok",
		"monitoring_enabled": true,
		"system": map[string]any{"hostname": "felhom-bench", "os": "Debian GNU/Linux 12 (bookworm)",
			"uptime_seconds": 1209600, "cpu_percent": 7.4, "load1": 0.42,
			"mem_total_bytes": 8589934592, "mem_used_bytes": 3221225472},
		"storage": []map[string]any{
			{"mount": "/", "label": "system", "uuid": "3f1c2a9e-5d7b-4f0e-9a61-0c2d8b7e4a11", "role": "system", "total_bytes": 118111600640, "used_bytes": 30064771072},
			{"mount": "/mnt/hdd1", "label": "adat1", "uuid": "8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33", "role": "data", "total_bytes": 1000204886016, "used_bytes": 612680550400},
		},
		"backups": map[string]any{"last_backup_at": "2026-11-22T02:14:51Z", "last_backup_status": "ok", "repository_bytes": 412316860416},
	}
	for i := 0; ; i++ {
		report["containers"] = containers
		b, err := json.Marshal(report)
		if err != nil {
			tb.Fatal(err)
		}
		if len(b) >= size {
			return b
		}
		containers = append(containers, map[string]string{
			"name": fmt.Sprintf("app%d-server", i), "app": fmt.Sprintf("app%d", i),
			"image": fmt.Sprintf("ghcr.io/example/app%d:v1.%d.%d", i, i%7, i%13), "state": "running", "health": "healthy",
			"labels": fmt.Sprintf("com.felhom.stack=app%d,com.felhom.managed=true,com.felhom.backup=daily", i),
		})
	}
}

// MustReport stores a minimal report of a customer and returns its result.
func MustReport(tb testing.TB, db *store.DB, customerID string) *hub.ReportResult {
	tb.Helper()
	return MustReportBody(tb, db, fmt.Sprintf(`{"customer_id":%q,"health":"ok"}`, customerID))
}

// MustReportBody stores a report body.
func MustReportBody(tb testing.TB, db *store.DB, body string) *hub.ReportResult {
	tb.Helper()
	r, err := hub.ParseReport([]byte(body), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	res, err := db.CreateReport(context.Background(), r)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// MustConfig creates a managed customer; edit may change the config first.
func MustConfig(tb testing.TB, db *store.DB, id string, edit func(*hub.CustomerConfig)) *hub.CustomerConfig {
	tb.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	if edit != nil {
		edit(cfg)
	}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(context.Background(), cfg); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// MustEvent stores a posted event.
func MustEvent(tb testing.TB, db *store.DB, customerID, typ, severity string) *hub.Event {
	tb.Helper()
	e := &hub.Event{CustomerID: customerID, Type: typ, Severity: severity, Source: hub.SourceController, Message: typ}
	if err := db.CreateEvent(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
	return e
}

// nodeWatch returns the node's watch as the checker reads it, failing when
// the node has no deadline.
func nodeWatch(tb testing.TB, db *store.DB, id string, clock *clocktest.Clock) hub.Watch {
	tb.Helper()
	ws, err := db.FindDueWatches(context.Background(), hub.WatchNode, clock.Now().AddDate(100, 0, 0), 1000000)
	if err != nil {
		tb.Fatal(err)
	}
	for _, w := range ws {
		if w.ID == id {
			return w
		}
	}
	tb.Fatalf("node %s has no deadline", id)
	return hub.Watch{}
}
