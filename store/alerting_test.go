package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

var alertEpoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// mustDown reports a customer, then lets the clock and the dead man's
// switch take it down.
func mustDown(t *testing.T, db interface {
	FindDueWatches(ctx context.Context, kind hub.WatchKind, now time.Time, limit int) ([]hub.Watch, error)
	ApplyWatchUpdates(ctx context.Context, updates []hub.WatchUpdate) ([]*hub.Event, error)
}, clock *clocktest.Clock) {
	t.Helper()
	clock.Add(2 * time.Hour)
	due, err := db.FindDueWatches(context.Background(), hub.WatchNode, clock.Now(), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	u, _ := due[0].Evaluate(clock.Now())
	if _, err := db.ApplyWatchUpdates(context.Background(), []hub.WatchUpdate{u}); err != nil {
		t.Fatal(err)
	}
}

func TestSilencesStore(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(alertEpoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "kovacs")
	MustReport(t, db, "szabo")
	if err := db.UpsertHost(ctx, &hub.Host{ID: "kovacs-3fa2c1", CustomerID: "kovacs"}, "0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	create := func(s *hub.Silence) error {
		if err := s.Validate(now); err != nil {
			t.Fatal(err)
		}
		s.Author = "admin-api"
		return db.CreateSilence(ctx, s)
	}
	host := &hub.Silence{HostID: "kovacs-3fa2c1", Reason: "host swap", EndsAt: now.Add(time.Hour)}
	if err := create(host); err != nil || host.ID == 0 || host.CustomerID != "kovacs" {
		t.Fatalf("host silence: %+v %v", host, err)
	}
	for _, bad := range []*hub.Silence{
		{CustomerID: "nobody", Reason: "x", EndsAt: now.Add(time.Hour)},
		{HostID: "no-such-host", Reason: "x", EndsAt: now.Add(time.Hour)},
		{CustomerID: "szabo", HostID: "kovacs-3fa2c1", Reason: "x", EndsAt: now.Add(time.Hour)},
	} {
		if err := create(bad); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	later := &hub.Silence{EventTypes: []string{"node_down"}, Reason: "tonight", StartsAt: now.Add(10 * time.Hour), EndsAt: now.Add(14 * time.Hour),
		Recurrence: &hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "22:00", Duration: "1h"}}
	if err := create(later); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindSilenceByID(ctx, later.ID)
	if err != nil || got.Recurrence == nil || got.Recurrence.Start != "22:00" || got.Author != "admin-api" || got.EventTypes[0] != "node_down" {
		t.Fatalf("read back: %+v %v", got, err)
	}
	states := func() map[string][]int64 {
		out := map[string][]int64{}
		for _, st := range []string{hub.SilenceActive, hub.SilenceUpcoming, hub.SilenceExpired} {
			list, err := db.FindSilences(ctx, hub.SilenceFilter{State: st})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range list {
				out[st] = append(out[st], s.ID)
			}
		}
		return out
	}
	if s := states(); len(s[hub.SilenceActive]) != 1 || len(s[hub.SilenceUpcoming]) != 1 || len(s[hub.SilenceExpired]) != 0 {
		t.Errorf("states: %v", s)
	}
	ended, err := db.EndSilence(ctx, host.ID, "web:admin")
	if err != nil || ended.EndedAt == nil || ended.EndedBy != "web:admin" {
		t.Fatalf("end: %+v %v", ended, err)
	}
	if _, err := db.EndSilence(ctx, host.ID, "web:admin"); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("end twice: %v", err)
	}
	if _, err := db.EndSilence(ctx, 999, "web:admin"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("end unknown: %v", err)
	}
	if s := states(); len(s[hub.SilenceExpired]) != 1 || s[hub.SilenceExpired][0] != host.ID {
		t.Errorf("states after the end: %v", s)
	}
}

func TestAcknowledgeAndFollowUpStore(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(alertEpoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "kovacs")
	if _, err := db.AcknowledgeCustomer(ctx, "kovacs", "api", ""); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("ack while up: %v", err)
	}
	if _, err := db.AcknowledgeCustomer(ctx, "nobody", "api", ""); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("ack unknown: %v", err)
	}
	mustDown(t, db, clock)
	problems, err := db.FindOpenProblems(ctx)
	if err != nil || len(problems) != 1 || problems[0].State != hub.StateDown || problems[0].Stored {
		t.Fatalf("open: %+v %v", problems, err)
	}
	p := problems[0]
	// A follow-up applies once: the second, from the same reading, finds
	// the record changed.
	up := *p
	up.Reminders = 1
	e := &hub.Event{CustomerID: "kovacs", Type: hub.EventAlertReminder, Severity: "error", Source: hub.SourceHub,
		Message: "reminder", DedupeKey: "alert_reminder:node:kovacs:1"}
	action := hub.AlertAction{Problem: *p, Update: up, Events: []*hub.Event{e}}
	first, err := db.ApplyAlertActions(ctx, []hub.AlertAction{action})
	if err != nil || len(first) != 1 {
		t.Fatalf("first apply: %v %v", first, err)
	}
	second, err := db.ApplyAlertActions(ctx, []hub.AlertAction{action})
	if err != nil || len(second) != 0 {
		t.Errorf("second apply stored %d", len(second))
	}
	ack, err := db.AcknowledgeCustomer(ctx, "kovacs", "web:admin", "on it")
	if err != nil || len(ack.Problems) != 1 {
		t.Fatalf("ack: %+v %v", ack, err)
	}
	problems, _ = db.FindOpenProblems(ctx)
	if q := problems[0]; !q.Acked() || q.AckNote != "on it" || q.Reminders != 1 || !q.Stored {
		t.Errorf("after ack: %+v", q)
	}
	// Back up: nothing is open, and a record from the ended outage is
	// not read into the next.
	MustReport(t, db, "kovacs")
	mustDown(t, db, clock)
	problems, _ = db.FindOpenProblems(ctx)
	if len(problems) != 1 || problems[0].Acked() || problems[0].Reminders != 0 || problems[0].Stored {
		t.Errorf("the next outage: %+v", problems[0])
	}
}

func TestFleetEvents(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(alertEpoch)
	db := MustOpenDB(t, clock)
	for _, id := range []string{"kovacs", "szabo"} {
		MustReport(t, db, id)
		clock.Add(time.Minute)
		if err := db.CreateEvent(ctx, &hub.Event{CustomerID: id, Type: "backup_failed", Severity: "error", Source: hub.SourceController, Message: "x"}); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		if err := db.CreateEvent(ctx, &hub.Event{CustomerID: id, Type: "backup_completed", Severity: "info", Source: hub.SourceController, Message: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.FindEvents(ctx, hub.EventFilter{Limit: 10})
	if err != nil || len(all) != 4 || all[0].CustomerID != "szabo" || all[0].Type != "backup_completed" {
		t.Fatalf("fleet events: %v %v", all, err)
	}
	failed, err := db.FindEvents(ctx, hub.EventFilter{Types: []string{"backup_failed"}, Severities: []string{"error"}, Limit: 10})
	if err != nil || len(failed) != 2 {
		t.Errorf("backup_failed: %d %v", len(failed), err)
	}
}
