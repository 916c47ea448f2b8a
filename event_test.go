package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestEventTypeRegistry(t *testing.T) {
	if got := len(hub.EventTypes(hub.SourceController)); got != 22 {
		t.Errorf("controller types: %d, want 22", got)
	}
	hubTypes := hub.EventTypes(hub.SourceHub)
	want := []string{"alert_escalation", "alert_reminder", // alert follow-ups (issue 19)
		"dr_bundle_drift", "dr_bundle_incomplete", "dr_bundle_stale", "dr_ready", // DR readiness (issue 20)
		"expected_backup_missed", "expected_dbdump_missed", "fleet_incident", "fleet_incident_resolved",
		"host_down", "host_recovered", "host_stale", "node_down", "node_flapping", "node_recovered", "node_stale",
		"still_down_after_silence"}
	if len(hubTypes) != len(want) {
		t.Fatalf("hub types %v, want %v", hubTypes, want)
	}
	for i := range want {
		if hubTypes[i] != want[i] {
			t.Fatalf("hub types %v, want %v", hubTypes, want)
		}
	}
}

func TestParseEventOccurredAt(t *testing.T) {
	e, err := hub.ParseEvent([]byte(`{"customer_id":"ab","event_type":"tunnel_down","severity":"error",
		"message":"m","details":null,"occurred_at":"2026-11-22T10:44:58+01:00"}`), time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 22, 9, 44, 58, 0, time.UTC); !e.OccurredAt.Equal(want) || e.Details != nil || e.Source != hub.SourceController {
		t.Fatalf("event %+v", e)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		42 * time.Second:                "42s",
		31*time.Minute + 10*time.Second: "31m",
		65 * time.Minute:                "1h5m",
		2 * time.Hour:                   "2h",
	} {
		if got := hub.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestNewWatchEvent(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	w := hub.Watch{Kind: hub.WatchNode, ID: "kovacs-csalad", CustomerID: "kovacs-csalad", Name: "kovacs-csalad",
		State: hub.StateDown, LastSeen: t0, Thresholds: hub.DefaultThresholds}
	e := hub.NewWatchEvent(w, hub.StateUp, t0.Add(65*time.Minute), 42)
	if e.Type != hub.EventNodeRecovered || e.Severity != hub.SeverityInfo || e.DedupeKey != "node_recovered:kovacs-csalad:42" {
		t.Fatalf("event %+v", e)
	}
	if want := "node kovacs-csalad is reporting again after 1h5m of silence"; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}
