package store_test

import (
	"encoding/json"
	"fmt"
	"testing"

	hub "github.com/felhom/hub"
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
