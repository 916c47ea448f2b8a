package store_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

func TestCreateEvent(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	var wakeups atomic.Int32
	db.SetEventsStored(func() { wakeups.Add(1) })

	t.Run("unknown customer", func(t *testing.T) {
		e := &hub.Event{CustomerID: "nobody", Type: "backup_failed", Severity: "error", Source: hub.SourceController, Message: "m"}
		err := db.CreateEvent(ctx, e)
		if got, want := hub.ErrorCode(err), hub.EINVALID; got != want {
			t.Fatalf("code = %q, want %q (%v)", got, want, err)
		}
		if wakeups.Load() != 0 {
			t.Fatal("dispatcher woken for a rejected event")
		}
	})

	MustReport(t, db, "kovacs-csalad")
	t.Run("stored with times", func(t *testing.T) {
		e := &hub.Event{CustomerID: "kovacs-csalad", Type: "disk_space_warning", Severity: "warning",
			Source: hub.SourceController, Message: "full", Details: json.RawMessage(`{"mount":"/"}`)}
		if err := db.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 || !e.ReceivedAt.Equal(epoch) || !e.OccurredAt.Equal(epoch) {
			t.Fatalf("event = %+v, want id set and both times %v", e, epoch)
		}
		if got := wakeups.Load(); got != 1 {
			t.Fatalf("wakeups = %d, want 1", got)
		}
		got, err := db.FindEvents(ctx, hub.EventFilter{CustomerID: "kovacs-csalad", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got[0].Details) != `{"mount":"/"}` || got[0].Source != hub.SourceController {
			t.Fatalf("found %+v", got)
		}
	})
}

func TestCreateHubEventsDedupe(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustReport(t, db, "kovacs-csalad")
	var wakeups atomic.Int32
	db.SetEventsStored(func() { wakeups.Add(1) })
	mk := func() *hub.Event {
		return &hub.Event{CustomerID: "kovacs-csalad", Type: hub.EventExpectedBackupMissed, Severity: "warning",
			Source: hub.SourceHub, Message: "m", DedupeKey: "expected_backup_missed:kovacs-csalad:2026-11-22"}
	}
	for i, want := range []int{1, 0} {
		stored, err := db.CreateHubEvents(ctx, []*hub.Event{mk()})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != want {
			t.Fatalf("run %d: stored %d, want %d", i, len(stored), want)
		}
	}
	if got := wakeups.Load(); got != 1 {
		t.Fatalf("wakeups = %d, want 1 (none for a duplicate)", got)
	}
}

func TestFindEvents(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "a-node")
	MustReport(t, db, "b-node")
	var ids []int64
	for _, sev := range []string{"info", "warning", "error", "warning"} {
		ids = append(ids, MustEvent(t, db, "a-node", "app_updated", sev).ID)
		clock.Add(time.Hour)
	}
	MustEvent(t, db, "b-node", "app_updated", "error")

	tests := []struct {
		name string
		f    hub.EventFilter
		want []int64
	}{
		{"all newest first", hub.EventFilter{Limit: 100}, []int64{ids[3], ids[2], ids[1], ids[0]}},
		{"limit", hub.EventFilter{Limit: 2}, []int64{ids[3], ids[2]}},
		{"severity", hub.EventFilter{Severities: []string{"warning"}, Limit: 100}, []int64{ids[3], ids[1]}},
		{"severities", hub.EventFilter{Severities: []string{"warning", "error"}, Limit: 100}, []int64{ids[3], ids[2], ids[1]}},
		{"since inclusive", hub.EventFilter{Since: epoch.Add(2 * time.Hour), Limit: 100}, []int64{ids[3], ids[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.CustomerID = "a-node"
			events, err := db.FindEvents(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range events {
				got = append(got, e.ID)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestCountRecentEvents(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "a-node")
	MustReport(t, db, "b-node")
	MustReport(t, db, "c-node")
	MustEvent(t, db, "a-node", "backup_failed", "error") // older than the window
	clock.Add(25 * time.Hour)
	since := clock.Now().Add(-24 * time.Hour)
	MustEvent(t, db, "a-node", "backup_failed", "error")
	MustEvent(t, db, "a-node", "disk_space_warning", "warning")
	MustEvent(t, db, "a-node", "disk_space_warning", "warning")
	MustEvent(t, db, "b-node", "app_updated", "info")
	MustEvent(t, db, "c-node", "tunnel_down", "error")

	got, err := db.CountRecentEvents(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]hub.EventCounts{"a-node": {Errors: 1, Warnings: 2}, "c-node": {Errors: 1}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: got %+v, want %+v", id, got[id], w)
		}
	}
}

func TestEventQueue(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustReport(t, db, "a-node")
	var ids []int64
	for range 3 {
		ids = append(ids, MustEvent(t, db, "a-node", "app_updated", "info").ID)
	}
	queued, err := db.FindUndispatchedEvents(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 2 || queued[0].ID != ids[0] || queued[1].ID != ids[1] {
		t.Fatalf("queued %v, want the first two of %v", queued, ids)
	}
	for _, id := range []int64{ids[0], ids[0], ids[1]} { // marking twice is harmless
		if err := db.MarkEventDispatched(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	queued, err = db.FindUndispatchedEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].ID != ids[2] {
		t.Fatalf("queued %v, want only %d", queued, ids[2])
	}
}

func TestDeleteCustomerConfigKeepsCustomerWithEvents(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustConfig(t, db, "kovacs-csalad", nil)
	MustEvent(t, db, "kovacs-csalad", "app_installed", "info")
	if err := db.DeleteCustomerConfig(ctx, "kovacs-csalad"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindCustomerByID(ctx, "kovacs-csalad"); err != nil {
		t.Fatalf("customer with events gone: %v", err)
	}
}
