package monitor

import (
	"context"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// HistoryWorker keeps the history tiers current: every Interval it rolls up
// the new reports and compacts the bodies of the full tier, batch by batch
// until both are caught up. Each batch is its own short transaction, and a
// rest at least as long as the batch follows it: a backlog (a restart after
// downtime, the conversion of an older database) is worked off at no more
// than half of one core, and the report writer gets the database between
// any two batches.
// On a database from an older version, the same passes convert the existing
// history (rollups, compressed bodies) and resume where they stopped.
type HistoryWorker struct {
	Store hub.HistoryMaintenance
	// Lease, when set, must be held for a batch to start: the progress
	// watermarks assume one runner. A batch running when it is lost
	// finishes (each batch is one transaction that moves its watermark).
	Lease hub.Lease
	// Interval is the time between passes (DefaultHistoryInterval).
	Interval time.Duration
	// Batch is how many reports of each stream one batch takes.
	Batch int
	// Pause is the shortest rest after each batch.
	Pause  time.Duration
	Logger *slog.Logger

	loop loop.Loop
}

// Defaults of the HistoryWorker. A pass a minute keeps rollups at most a
// minute behind and each pass small (500 nodes post ~70 reports a minute).
const (
	DefaultHistoryInterval = time.Minute
	DefaultHistoryBatch    = 100
	DefaultHistoryPause    = 20 * time.Millisecond
)

// Open starts the loop: a pass now, then one every Interval.
func (w *HistoryWorker) Open() error {
	if w.Interval <= 0 {
		w.Interval = DefaultHistoryInterval
	}
	return w.loop.Open(loop.Config{
		Run: func(ctx context.Context) error {
			_, _, err := w.RunOnce(ctx)
			return err
		},
		Interval: w.Interval,
		Logger:   w.Logger,
		Level:    slog.LevelError,
		Message:  "history pass failed",
		Name:     "history pass",
	})
}

// Close stops the loop, waiting for the running batch until ctx ends.
func (w *HistoryWorker) Close(ctx context.Context) error { return w.loop.Close(ctx) }

// RunOnce rolls up and compacts until both are caught up or the Lease is
// lost, and says how many reports each step went through.
func (w *HistoryWorker) RunOnce(ctx context.Context) (rolled, compacted int, err error) {
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultHistoryBatch
	}
	for ctx.Err() == nil && hub.LeaseHeld(w.Lease) {
		began := time.Now()
		r, err := w.Store.RollUpHistory(ctx, batch)
		if err != nil {
			return rolled, compacted, err
		}
		c, err := w.Store.CompactHistory(ctx, batch)
		if err != nil {
			return rolled, compacted, err
		}
		rolled, compacted = rolled+r, compacted+c
		// A step that found less than a batch in both streams is caught up.
		if r < batch && c < batch {
			break
		}
		if err := rest(ctx, max(w.Pause, time.Since(began))); err != nil {
			return rolled, compacted, err
		}
	}
	if rolled > 0 || compacted > 0 {
		w.Logger.Debug("history pass", "rolled_up", rolled, "compacted", compacted)
	}
	return rolled, compacted, ctx.Err()
}

// rest waits for d or until ctx ends.
func rest(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
