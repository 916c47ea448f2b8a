package dispatch_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/dispatch"
	"github.com/felhom/hub/internal/clocktest"
)

// fakeLease is a lease the test hands out and takes back.
type fakeLease struct{ held atomic.Bool }

func (l *fakeLease) Held() bool { return l.held.Load() }

// TestWorkerDispatchesOnlyWithTheLease runs two replicas' workers on one
// queue: only the holder dispatches, and when the lease moves during a
// dispatch, that event still goes out and the new holder does the rest.
func TestWorkerDispatchesOnlyWithTheLease(t *testing.T) {
	ctx := context.Background()
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, filepath.Join(t.TempDir(), "hub.db"), c)
	ids := storeMixedEvents(t, db, c)

	rec := newRecorder()
	var leaseA, leaseB fakeLease
	a, b := dispatch.NewWorker(db, rec, discard), dispatch.NewWorker(db, rec, discard)
	a.Lease, b.Lease = &leaseA, &leaseB
	a.BatchSize, b.BatchSize = 2, 2
	for _, w := range []*dispatch.Worker{a, b} {
		if n, err := w.RunOnce(ctx); n != 0 || err != nil {
			t.Fatalf("without the lease: dispatched %d (%v)", n, err)
		}
	}

	// a loses the lease while dispatching its third event.
	calls := 0
	a.Dispatcher = dispatcherFunc(func(ctx context.Context, e *hub.Event) error {
		if calls++; calls == 3 {
			leaseA.held.Store(false)
		}
		return rec.DispatchEvent(ctx, e)
	})
	leaseA.held.Store(true)
	if n, err := a.RunOnce(ctx); n != 3 || err != nil {
		t.Fatalf("a dispatched %d (%v), want 3", n, err)
	}
	leaseB.held.Store(true)
	if n, err := b.RunOnce(ctx); n != len(ids)-3 || err != nil {
		t.Fatalf("b dispatched %d (%v), want the %d left", n, err, len(ids)-3)
	}
	rec.exactlyOnce(t, ids)
}
