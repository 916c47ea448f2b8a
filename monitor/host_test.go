package monitor_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

func hostReport(t *testing.T, db *store.DB, hostID string) {
	t.Helper()
	r, err := hub.ParseHostReport([]byte(`{"host_id":"` + hostID + `","host":{"hostname":"pve-kovacs"},
		"guests":[{"vmid":101,"status":"running"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateHostReport(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func TestHostStaleness(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	db.HostThresholds = hub.Thresholds{Stale: 30 * time.Minute, Down: 60 * time.Minute}
	mustConfig(t, db, "kovacs-csalad", nil)
	for _, id := range []string{"kovacs-csalad-3fa2c1", "kovacs-csalad-silent"} {
		if err := db.UpsertHost(ctx, &hub.Host{ID: id, CustomerID: "kovacs-csalad"}, hub.NewAPIKey()); err != nil {
			t.Fatal(err)
		}
	}
	checker := newChecker(db, clock)
	hostReport(t, db, "kovacs-csalad-3fa2c1")

	steps := []struct {
		at     time.Duration
		report bool
		want   []string
	}{
		{at: 0}, // first sight: no event
		{at: 30 * time.Minute},
		{at: 30*time.Minute + 30*time.Second, want: []string{hub.EventHostStale}},
		{at: 45 * time.Minute},
		{at: 60*time.Minute + 30*time.Second, want: []string{hub.EventHostDown}},
		{at: 3 * time.Hour},
		{at: 3*time.Hour + time.Minute, report: true, want: []string{hub.EventHostRecovered}},
		{at: 3*time.Hour + 2*time.Minute},
	}
	for _, s := range steps {
		clock.Set(epoch.Add(s.at))
		before := len(eventTypes(t, db, "kovacs-csalad"))
		if s.report {
			hostReport(t, db, "kovacs-csalad-3fa2c1")
		}
		mustPass(t, checker)
		if got := eventTypes(t, db, "kovacs-csalad")[before:]; !equal(got, s.want) {
			t.Fatalf("at +%v: events %v, want %v", s.at, got, s.want)
		}
	}

	// The events belong to the host's customer and name the host.
	events, err := db.FindEvents(ctx, hub.EventFilter{CustomerID: "kovacs-csalad", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		var details map[string]any
		if err := json.Unmarshal(e.Details, &details); err != nil || details["host_id"] != "kovacs-csalad-3fa2c1" {
			t.Errorf("%s details %s, want host_id", e.Type, e.Details)
		}
		if e.Source != hub.SourceHub {
			t.Errorf("%s source %s", e.Type, e.Source)
		}
	}
	if events[0].Severity != hub.SeverityInfo || events[1].Severity != hub.SeverityError || events[2].Severity != hub.SeverityWarning {
		t.Errorf("severities %s %s %s", events[0].Severity, events[1].Severity, events[2].Severity)
	}
}

func TestHostStalenessMutedByBlockedCustomer(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	mustConfig(t, db, "kovacs-csalad", func(c *hub.CustomerConfig) { c.Status = hub.ConfigBlocked })
	if err := db.UpsertHost(ctx, &hub.Host{ID: "kovacs-csalad-3fa2c1", CustomerID: "kovacs-csalad"}, ""); err != nil {
		t.Fatal(err)
	}
	hostReport(t, db, "kovacs-csalad-3fa2c1")
	checker := newChecker(db, clock)
	for range 120 {
		clock.Add(time.Minute)
		mustPass(t, checker)
	}
	if got := eventTypes(t, db, "kovacs-csalad"); len(got) != 0 {
		t.Fatalf("events %v for a blocked customer's host", got)
	}
}
