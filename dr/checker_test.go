package dr_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/dr"
	"github.com/felhom/hub/store"
)

// newChecker is a checker over a SQLite database holding one managed
// customer with the example report and bundle.
func newChecker(tb testing.TB, now time.Time) (*dr.Checker, *store.DB) {
	tb.Helper()
	ctx := context.Background()
	db := store.NewDB(filepath.Join(tb.TempDir(), "hub.db"))
	db.Now = func() time.Time { return now }
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	cfg := &hub.CustomerConfig{CustomerID: "kovacs-csalad", Domain: "kovacs-csalad.felhom.eu", Status: hub.ConfigActive}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		tb.Fatal(err)
	}
	for _, f := range []string{"controller-report.json", "infra-backup.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", f))
		if err != nil {
			tb.Fatal(err)
		}
		if f == "infra-backup.json" {
			b, err := hub.ParseInfraBackup(raw, now, func([]byte) bool { return true })
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := db.CreateInfraBackup(ctx, b); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		r, err := hub.ParseReport(raw, now)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := db.CreateReport(ctx, r); err != nil {
			tb.Fatal(err)
		}
	}
	logger := slog.New(slog.DiscardHandler)
	return &dr.Checker{Store: db, Configs: configgen.NewTemplates(db, logger), Now: func() time.Time { return now }, Logger: logger}, db
}

// The checker reads the example fixtures as the rules expect: the example
// bundle matches the example report's disks and apps, and differs from the
// hub's generated config only in identity (hub URL and API key).
func TestCheckerFacts(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	c, _ := newChecker(t, now)
	r, ev, err := c.Check(context.Background(), "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if r.Grade != hub.DRAtRisk || len(r.Reasons) != 1 || r.Reasons[0].Code != hub.DRIdentityMismatch ||
		r.Reasons[0].Message != "controller.yaml in the bundle differs from the config the hub generates today in: hub URL, hub API key" {
		t.Errorf("readiness %+v", r)
	}
	if ev == nil || ev.Type != hub.EventDRBundleDrift {
		t.Errorf("event %+v", ev)
	}
	// A manual customer (no config) is skipped.
	if r, ev, err := c.Check(context.Background(), "unknown-node"); r != nil || ev != nil || err != nil {
		t.Errorf("a customer without config: %v %v %v", r, ev, err)
	}
}

// BenchmarkCheck is the cost of one check: run on every report and bundle.
func BenchmarkCheck(b *testing.B) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	c, _ := newChecker(b, now)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := c.Check(ctx, "kovacs-csalad"); err != nil {
			b.Fatal(err)
		}
	}
}
