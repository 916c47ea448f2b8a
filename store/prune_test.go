package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

func TestPrune(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)

	// "old" reports 2,500 times (more than two batches) and then falls
	// silent; its latest report is old but must stay.
	const oldReports = 2500
	for range oldReports {
		MustReport(t, db, "old")
	}
	MustEvent(t, db, "old", "app_updated", "info")
	MustReport(t, db, "fresh")
	clock.Add(100 * 24 * time.Hour)
	MustReport(t, db, "fresh")
	keptEvent := MustEvent(t, db, "fresh", "app_updated", "info")

	results, err := db.Prune(ctx, clock.Now().Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range results {
		got[r.Step] = r.Deleted
	}
	if got["reports"] != oldReports || got["events"] != 1 {
		t.Fatalf("deleted %v, want reports %d (all but old's latest, plus fresh's first) and events 1", got, oldReports)
	}
	for _, id := range []string{"old", "fresh"} {
		if _, err := db.FindLatestReport(ctx, id); err != nil {
			t.Errorf("latest report of %s: %v", id, err)
		}
	}
	events, err := db.FindEvents(ctx, hub.EventFilter{CustomerID: "fresh", Limit: 10})
	if err != nil || len(events) != 1 || events[0].ID != keptEvent.ID {
		t.Fatalf("events of fresh %v, %v", events, err)
	}
	// A second prune finds nothing.
	results, err = db.Prune(ctx, clock.Now().Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Deleted != 0 {
			t.Errorf("second prune deleted %d from %s", r.Deleted, r.Step)
		}
	}
}

func TestFindNodesMissingEvent(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	for _, id := range []string{"backed-up", "missing", "blocked", "paused", "disabled", "down"} {
		switch id {
		case "blocked":
			MustConfig(t, db, id, func(c *hub.CustomerConfig) { c.Status = hub.ConfigBlocked })
		case "paused":
			MustConfig(t, db, id, func(c *hub.CustomerConfig) { c.MonitoringPaused = true })
		}
		body := `{"customer_id":"` + id + `"}`
		if id == "disabled" {
			body = `{"customer_id":"disabled","monitoring_enabled":false}`
		}
		MustReportBody(t, db, body)
	}
	MustConfig(t, db, "never-reported", nil)
	w := nodeWatch(t, db, "down", clock)
	clock.Add(2 * time.Hour)
	if _, err := db.ApplyWatchUpdates(ctx, []hub.WatchUpdate{{Watch: w, State: hub.StateDown}}); err != nil {
		t.Fatal(err)
	}
	since := clock.Now()
	clock.Add(time.Hour)
	MustReport(t, db, "new-today") // known only since after the window started
	for _, id := range []string{"backed-up", "missing", "blocked", "paused", "disabled", "down", "new-today"} {
		if id == "backed-up" {
			MustEvent(t, db, id, hub.EventBackupCompleted, "info")
		} else {
			MustEvent(t, db, id, hub.EventDBDumpCompleted, "info")
		}
	}
	got, err := db.FindNodesMissingEvent(ctx, hub.EventBackupCompleted, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "missing" {
		t.Fatalf("missing %v, want [missing]", got)
	}
}
