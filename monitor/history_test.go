package monitor_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/store"
)

// simulate posts a simulated node's reports every 15 minutes for d.
func simulate(t *testing.T, db *store.DB, clock *clocktest.Clock, n *fleetsim.Node, d time.Duration) int {
	t.Helper()
	count := 0
	for end := clock.Now().Add(d); clock.Now().Before(end); clock.Add(15 * time.Minute) {
		n.Tick(15 * time.Minute)
		mustReport(t, db, string(n.Report(clock.Now(), true)))
		count++
	}
	return count
}

func TestHistoryWorkerCatchesUpInBatches(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	posted := simulate(t, db, clock, fleetsim.NewNode("a-node", 1, 16<<10), 6*time.Hour)
	w := &monitor.HistoryWorker{Store: db, Batch: 5, Logger: discard}
	rolled, compacted, err := w.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Everything is rolled up; everything older than an hour compacted.
	if rolled != posted || compacted != posted-4 {
		t.Errorf("rolled up %d, compacted %d of %d reports", rolled, compacted, posted)
	}
	points, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "a-node", Resolution: hub.ResolutionHourly, Since: epoch})
	if err != nil || len(points) != 6 {
		t.Errorf("%d hourly points (%v), want 6", len(points), err)
	}
	if rolled, compacted, err := w.RunOnce(ctx); rolled != 0 || compacted != 0 || err != nil {
		t.Errorf("a second pass did %d, %d (%v)", rolled, compacted, err)
	}
}

func TestPrunerTrimsTiersAndReturnsSpace(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	n := fleetsim.NewNode("a-node", 2, 20<<10)
	w := &monitor.HistoryWorker{Store: db, Logger: discard}
	for range 10 {
		simulate(t, db, clock, n, 24*time.Hour)
		if _, _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pages := func() (count, free int64) {
		t.Helper()
		if err := conn.QueryRow(`PRAGMA page_count`).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(`PRAGMA freelist_count`).Scan(&free); err != nil {
			t.Fatal(err)
		}
		return count, free
	}
	before, _ := pages()

	p := &monitor.Pruner{Store: db, History: db, MaxAge: 90 * 24 * time.Hour, ReclaimPages: 16, Now: clock.Now, Logger: discard}
	if err := p.Run(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	after, free := pages()
	if free != 0 || after >= before*8/10 {
		t.Errorf("pages %d → %d, %d free: want the 3 pruned days of 10 returned", before, after, free)
	}
	raw, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "a-node", Resolution: hub.ResolutionRaw, Since: epoch})
	if err != nil || len(raw) != 7*96 {
		t.Errorf("%d raw points (%v), want the last 7 days", len(raw), err)
	}
	if _, err := db.FindLatestReport(ctx, "a-node"); err != nil {
		t.Fatal(err)
	}
}
