package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

// Changing a node's thresholds moves its dead man's switch at once: a node
// already silent past the new stale threshold is due now, not when the old
// threshold would have made it so.
func TestThresholdChangeRearmsNode(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "a-node", nil)
	MustReport(t, db, "a-node")
	clock.Add(20 * time.Minute) // silent for 20 min; stale only after the default 30 min

	if w := nodeWatch(t, db, "a-node", clock); !w.NextDeadline.Equal(epoch.Add(30 * time.Minute)) {
		t.Fatalf("deadline %v before the change, want %v", w.NextDeadline, epoch.Add(30*time.Minute))
	}
	if _, err := db.UpdateCustomerConfig(ctx, "a-node", func(c *hub.CustomerConfig) error {
		c.StaleThreshold, c.DownThreshold = 10*time.Minute, 15*time.Minute
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := nodeWatch(t, db, "a-node", clock)
	if want := epoch.Add(10 * time.Minute); !w.NextDeadline.Equal(want) {
		t.Fatalf("deadline %v after the change, want %v", w.NextDeadline, want)
	}
	// The checker's next pass decides at once: past the new down threshold too.
	u, ok := w.Evaluate(clock.Now())
	if !ok || u.State != hub.StateDown || u.Event == nil || u.Event.Type != hub.EventNodeDown {
		t.Fatalf("evaluate after the change: %+v %v, want node_down", u, ok)
	}

	// A change of anything else leaves the deadline alone.
	if _, err := db.UpdateCustomerConfig(ctx, "a-node", func(c *hub.CustomerConfig) error {
		c.DisplayName = "Renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := nodeWatch(t, db, "a-node", clock); !got.NextDeadline.Equal(w.NextDeadline) {
		t.Errorf("a rename moved the deadline to %v", got.NextDeadline)
	}
}

// Metrics a report did not give readably are flagged, not passed off as 0 %,
// in the fleet listing, the latest report, the raw history and the rollups.
func TestUnreadMetricsAreFlagged(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReportBody(t, db, `{"customer_id":"blind","health":"fail","system":{"cpu_percent":"lots"},
		"checks":[{"name":"disk_space","status":"fail","message":"/ 97% full"},{"name":"tunnel","status":"ok"}]}`)
	clock.Add(time.Minute)
	MustReportBody(t, db, `{"customer_id":"blind","system":{"cpu_percent":40,"mem_total_bytes":100,"mem_used_bytes":50}}`)

	c, err := db.FindCustomerByID(ctx, "blind")
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Latest; !l.HasCPU || !l.HasMem || l.HasDisk {
		t.Errorf("latest has cpu %v mem %v disk %v, want true true false", l.HasCPU, l.HasMem, l.HasDisk)
	}
	points, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "blind",
		Resolution: hub.ResolutionRaw, Since: epoch.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 2 || points[0].Unread != hub.UnreadCPU|hub.UnreadMem|hub.UnreadDisk || points[1].Unread != hub.UnreadDisk {
		t.Fatalf("raw points %+v, want unread all, then disk", points)
	}
	if _, err := db.RollUpHistory(ctx, 100); err != nil {
		t.Fatal(err)
	}
	hourly, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "blind",
		Resolution: hub.ResolutionHourly, Since: epoch.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// One bucket of two reports: CPU read once (40), so its average is 40,
	// not 20; disk read never.
	if len(hourly) != 1 || hourly[0].CPUAvg != 40 || hourly[0].Unread != hub.UnreadDisk {
		t.Fatalf("hourly %+v, want cpu avg 40 and disk unread", hourly)
	}
}

// The failing checks of the latest report reach the fleet listing, so the
// fleet can say why without reading bodies.
func TestCheckProblemsInFleetListing(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustReportBody(t, db, `{"customer_id":"red","health":"fail",
		"checks":[{"name":"disk_space","status":"fail","message":"/ 97% full"},{"name":"tunnel","status":"ok"},{"name":"backup","status":"warn"}]}`)
	cs, err := db.FindCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("%d customers", len(cs))
	}
	want := []hub.CheckProblem{{Name: "disk_space", Status: "fail", Note: "97 %"}, {Name: "backup", Status: "warn"}}
	got := cs[0].Latest.CheckProblems
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("check problems %+v, want %+v", got, want)
	}
	if r := cs[0].Reason(epoch, hub.DefaultThresholds, nil); r.Text != "DOWN — health fail: disk_space (97 %)" {
		t.Errorf("reason %q", r.Text)
	}
}

// "Events 24 h" counts by receipt: an event dated days ago but received now
// counts, one dated in the future but received long ago does not.
func TestRecentEventsCountByReceipt(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "a-node")
	post := func(occurred time.Time) {
		t.Helper()
		if err := db.CreateEvent(ctx, &hub.Event{CustomerID: "a-node", Type: "backup_failed", Severity: hub.SeverityError,
			Source: hub.SourceController, Message: "x", OccurredAt: occurred}); err != nil {
			t.Fatal(err)
		}
	}
	post(epoch.Add(30 * 24 * time.Hour)) // received at epoch, dated a month ahead
	clock.Add(48 * time.Hour)
	post(clock.Now().Add(-72 * time.Hour)) // received now, dated three days ago
	counts, err := db.CountRecentEvents(ctx, clock.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := counts["a-node"].Errors; got != 1 {
		t.Errorf("%d errors in the last 24 h, want 1 (by receipt)", got)
	}
}
