package monitor_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
)

// fakeLease is a lease the test hands out and takes back.
type fakeLease struct{ held atomic.Bool }

func (l *fakeLease) Held() bool { return l.held.Load() }

// TestSchedulerRunsOnlyWithTheLease runs two replicas' schedulers on one
// database: only the one holding the lease runs jobs, neither runs a slot
// the other ran, and a job running when the lease is lost finishes while
// the next waits for the new holder.
func TestSchedulerRunsOnlyWithTheLease(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(local(2027, 5, 3, 10, 0))
	db := openDB(t, "", clock)
	var leaseA, leaseB fakeLease
	var pruneA, backupA, pruneB, backupB recorder
	newScheduler := func(l *fakeLease, prune, backup *recorder) *monitor.Scheduler {
		return &monitor.Scheduler{
			Jobs: []monitor.DailyJob{
				{Name: "prune", At: 4*60 + 30, Run: prune.run},
				{Name: "backup_check", At: 5 * 60, Run: backup.run},
			},
			Runs: db, Lease: l, Location: budapest, Now: clock.Now, Logger: discard,
		}
	}
	a, b := newScheduler(&leaseA, &pruneA, &backupA), newScheduler(&leaseB, &pruneB, &backupB)
	runDue := func(s *monitor.Scheduler) {
		t.Helper()
		if err := s.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runs := func(step string, r *recorder, want int) {
		t.Helper()
		if len(r.slots) != want {
			t.Fatalf("%s: %d runs %v, want %d", step, len(r.slots), r.slots, want)
		}
	}

	// No lease: not even the first start is recorded.
	runDue(a)
	runDue(b)
	if _, err := db.FindJobRun(ctx, "prune"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("a scheduler without the lease recorded a run (%v)", err)
	}
	leaseA.held.Store(true)
	runDue(a) // records the first start

	// The next morning b holds the lease: b runs both jobs, a none.
	clock.Set(local(2027, 5, 4, 5, 1))
	leaseA.held.Store(false)
	leaseB.held.Store(true)
	runDue(a)
	runDue(b)
	runs("b holds", &pruneA, 0)
	runs("b holds", &backupA, 0)
	runs("b holds", &pruneB, 1)
	runs("b holds", &backupB, 1)

	// a takes the lease back the same morning: b's runs count.
	leaseA.held.Store(true)
	leaseB.held.Store(false)
	runDue(a)
	runs("a back", &pruneA, 0)
	runs("a back", &backupA, 0)

	// The morning after, a loses the lease while the prune runs: the prune
	// finishes and counts, the backup check waits for b.
	clock.Set(local(2027, 5, 5, 5, 1))
	pruneA.onRun = func() { leaseA.held.Store(false) }
	runDue(a)
	runs("lost during the prune", &pruneA, 1)
	runs("lost during the prune", &backupA, 0)
	leaseB.held.Store(true)
	runDue(b)
	runs("b after a lost it", &pruneB, 1)
	runs("b after a lost it", &backupB, 2)
}

func TestHistoryWorkerRunsOnlyWithTheLease(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	posted := simulate(t, db, clock, fleetsim.NewNode("a-node", 1, 16<<10), 6*time.Hour)
	var l fakeLease
	w := &monitor.HistoryWorker{Store: &losingHistory{HistoryMaintenance: db, lease: &l}, Lease: &l, Batch: 5, Logger: discard}
	if rolled, compacted, err := w.RunOnce(ctx); rolled != 0 || compacted != 0 || err != nil {
		t.Fatalf("without the lease: rolled up %d, compacted %d (%v)", rolled, compacted, err)
	}
	// The lease is lost during the first batch: that batch finishes, no
	// other starts.
	l.held.Store(true)
	if rolled, compacted, err := w.RunOnce(ctx); rolled != 5 || compacted != 5 || err != nil {
		t.Fatalf("lost during a batch: rolled up %d, compacted %d (%v), want one batch", rolled, compacted, err)
	}
	w.Store = db
	l.held.Store(true)
	if rolled, _, err := w.RunOnce(ctx); rolled != posted-5 || err != nil {
		t.Fatalf("with the lease: rolled up %d of the %d left (%v)", rolled, posted-5, err)
	}
}

// losingHistory loses the lease in the middle of a batch.
type losingHistory struct {
	hub.HistoryMaintenance
	lease *fakeLease
}

func (h *losingHistory) RollUpHistory(ctx context.Context, limit int) (int, error) {
	h.lease.held.Store(false)
	return h.HistoryMaintenance.RollUpHistory(ctx, limit)
}
