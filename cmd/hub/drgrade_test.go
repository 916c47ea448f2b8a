package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
)

// A running hub grades a customer when its bundle arrives and hands the
// DR event to the dispatcher, as every event; after a restart, a report
// re-grades it to the same grade without a second event.
func TestMainGradesDisasterRecovery(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = t.TempDir()
	cfg.Registry.Image = ""
	cfg.API.ReportAPIKey = "dr-grade-global-key-0123456789"
	cfg.API.AdminAPIKey = testAdminKey
	start := func(d hub.EventDispatcher) *Main {
		t.Helper()
		cfg.Server.Listen = "127.0.0.1:0"
		m := NewMain(cfg, slog.New(slog.DiscardHandler))
		m.Dispatcher = d
		if err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		return m
	}
	dispatched := make(chanDispatcher, 100)
	m := start(dispatched)
	call := func(m *Main, method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+m.Addr()+path, strings.NewReader(body))
		key := cfg.API.ReportAPIKey
		if strings.HasPrefix(path, "/api/v1/admin/") {
			key = cfg.API.AdminAPIKey
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := call(m, "POST", "/api/v1/admin/customers", `{"customer_id":"kovacs-csalad","domain":"kovacs-csalad.felhom.eu"}`); s != 201 {
		t.Fatalf("create: %d", s)
	}
	backup, err := os.ReadFile(filepath.Join("..", "..", "testdata", "infra-backup.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Fresh: the bundle was taken an hour ago.
	body := strings.Replace(string(backup), "2026-11-22T03:00:00Z", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), 1)
	if s := call(m, "POST", "/api/v1/infra-backup", body); s != 201 {
		t.Fatalf("infra-backup: %d", s)
	}
	// The example bundle's controller.yaml is not what this hub generates.
	deadline := time.After(20 * time.Second)
	for found := false; !found; {
		select {
		case e := <-dispatched:
			found = e.Type == hub.EventDRBundleDrift && e.CustomerID == "kovacs-csalad" && e.Source == hub.SourceHub
		case <-deadline:
			t.Fatal("no dr_bundle_drift dispatched after the bundle arrived")
		}
	}
	first, err := m.DB.FindDRReadiness(ctx, "kovacs-csalad")
	if err != nil || first.Grade != hub.DRAtRisk {
		t.Fatalf("readiness %+v, %v", first, err)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}

	m = start(make(chanDispatcher, 100))
	defer m.Close(ctx)
	// A report re-grades the customer: still at risk (the bundle's disks
	// are not on this node), so no second event.
	if s := call(m, "POST", "/api/v1/report", `{"customer_id":"kovacs-csalad"}`); s != 200 {
		t.Fatalf("report: %d", s)
	}
	for {
		again, err := m.DB.FindDRReadiness(ctx, "kovacs-csalad")
		if err != nil {
			t.Fatal(err)
		}
		if again.CheckedAt.After(first.CheckedAt) {
			break
		}
		select {
		case <-deadline:
			t.Fatal("the report did not re-grade the customer")
		case <-time.After(20 * time.Millisecond): // polls a condition; the pass runs on its own
		}
	}
	events, err := m.DB.FindEvents(ctx, hub.EventFilter{CustomerID: "kovacs-csalad"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e.Type, "dr_") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d DR events after a restart, want 1", n)
	}
}
