package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

// setState moves a node's watch with an update, as the checker would.
func setState(t *testing.T, w hub.Watch, to hub.MonitorState, deadline *time.Time, clock *clocktest.Clock) hub.WatchUpdate {
	t.Helper()
	return hub.WatchUpdate{Watch: w, State: to, NextDeadline: deadline,
		Event: hub.NewWatchEvent(w, to, clock.Now(), w.LastReportID)}
}

func TestReportMovesWatch(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)

	// First sight: up, no event, deadline one stale threshold on.
	MustReport(t, db, "a-node")
	w := nodeWatch(t, db, "a-node", clock)
	if w.State != hub.StateUp || !w.NextDeadline.Equal(epoch.Add(30*time.Minute)) || w.Thresholds != hub.DefaultThresholds {
		t.Fatalf("after first report: %+v", w)
	}
	// A config override changes the deadline of the next report.
	MustConfig(t, db, "b-node", func(c *hub.CustomerConfig) { c.StaleThreshold, c.DownThreshold = 10*time.Minute, 20*time.Minute })
	MustReport(t, db, "b-node")
	if b := nodeWatch(t, db, "b-node", clock); !b.NextDeadline.Equal(epoch.Add(10 * time.Minute)) {
		t.Fatalf("override ignored: deadline %v", b.NextDeadline)
	}

	clock.Add(40 * time.Minute)
	down := setState(t, w, hub.StateDown, nil, clock)
	stored, err := db.ApplyWatchUpdates(ctx, []hub.WatchUpdate{down})
	if err != nil || len(stored) != 1 {
		t.Fatalf("apply: %v, stored %d", err, len(stored))
	}
	// The same decision again is refused by the compare-and-set.
	if stored, err := db.ApplyWatchUpdates(ctx, []hub.WatchUpdate{down}); err != nil || len(stored) != 0 {
		t.Fatalf("second apply: %v, stored %d, want 0", err, len(stored))
	}

	clock.Add(time.Minute)
	res := MustReport(t, db, "a-node")
	events, err := db.FindEvents(ctx, hub.EventFilter{CustomerID: "a-node", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Type != hub.EventNodeRecovered || events[1].Type != hub.EventNodeDown {
		t.Fatalf("events %+v, want node_recovered after node_down", events)
	}
	if events[0].Severity != hub.SeverityInfo || events[0].Source != hub.SourceHub {
		t.Fatalf("recovered event %+v", events[0])
	}
	w = nodeWatch(t, db, "a-node", clock)
	if w.State != hub.StateUp || w.LastReportID != res.ReportID {
		t.Fatalf("after recovery: %+v", w)
	}
}

func TestReportOfMutedNodeDoesNotRecover(t *testing.T) {
	tests := []struct {
		name   string
		config func(*hub.CustomerConfig)
		body   string
	}{
		{"blocked", func(c *hub.CustomerConfig) { c.Status = hub.ConfigBlocked }, `{"customer_id":"a-node"}`},
		{"paused", func(c *hub.CustomerConfig) { c.MonitoringPaused = true }, `{"customer_id":"a-node"}`},
		{"disabled", nil, `{"customer_id":"a-node","monitoring_enabled":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clock := clocktest.New(epoch)
			db := MustOpenDB(t, clock)
			MustConfig(t, db, "a-node", nil)
			MustReport(t, db, "a-node")
			w := nodeWatch(t, db, "a-node", clock)
			clock.Add(2 * time.Hour)
			if _, err := db.ApplyWatchUpdates(ctx, []hub.WatchUpdate{setState(t, w, hub.StateDown, nil, clock)}); err != nil {
				t.Fatal(err)
			}
			if tt.config != nil {
				if err := db.DeleteCustomerConfig(ctx, "a-node"); err != nil {
					t.Fatal(err)
				}
				MustConfig(t, db, "a-node", tt.config)
			}
			MustReportBody(t, db, tt.body)
			events, err := db.FindEvents(ctx, hub.EventFilter{CustomerID: "a-node", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Type != hub.EventNodeDown {
				t.Fatalf("events %+v, want only node_down", events)
			}
			if w := nodeWatch(t, db, "a-node", clock); w.State != hub.StateUp || !w.Muted {
				t.Fatalf("watch %+v, want up and muted", w)
			}
		})
	}
}

func TestFindDueWatches(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "never-reported", nil)
	MustReport(t, db, "a-node")
	clock.Add(10 * time.Minute)
	MustReport(t, db, "b-node")

	for _, tt := range []struct {
		at   time.Duration
		want []string
	}{
		{30 * time.Minute, nil}, // exactly at the deadline is not past it
		{30*time.Minute + time.Millisecond, []string{"a-node"}},
		{41 * time.Minute, []string{"a-node", "b-node"}},
	} {
		due, err := db.FindDueWatches(ctx, hub.WatchNode, epoch.Add(tt.at), 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range due {
			got = append(got, w.ID)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
			t.Errorf("at +%v: due %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestCreditOutage(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "early") // silent 20m when the outage starts
	clock.Add(20 * time.Minute)
	from := clock.Now()
	clock.Add(2 * time.Hour)
	to := clock.Now()
	if err := db.CreditOutage(ctx, "staleness_checker", from, to); err != nil {
		t.Fatal(err)
	}
	w := nodeWatch(t, db, "early", clock)
	// 20m of silence before the outage count; 10m of the stale threshold remain.
	if want := to.Add(10 * time.Minute); !w.NextDeadline.Equal(want) {
		t.Fatalf("deadline %v, want %v", w.NextDeadline, want)
	}
	last, err := db.FindJobRun(ctx, "staleness_checker")
	if err != nil || !last.Equal(to) {
		t.Fatalf("job run %v, %v; want %v", last, err, to)
	}
}

func TestJobRuns(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	if _, err := db.FindJobRun(ctx, "prune"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("never run: err = %v, want not found", err)
	}
	for _, at := range []time.Time{epoch, epoch.Add(-time.Hour)} { // never moves back
		if err := db.RecordJobRun(ctx, "prune", at); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.FindJobRun(ctx, "prune"); err != nil || !got.Equal(epoch) {
		t.Fatalf("got %v, %v; want %v", got, err, epoch)
	}
}
