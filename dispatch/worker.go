// Package dispatch hands every stored event to the hub's one dispatch hook.
// The events table is the durable queue: an event is stored undispatched in
// the transaction that stores it, and leaves the queue only after the
// dispatcher took it, so no event is lost to a crash or a restart.
package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	hub "github.com/felhom/hub"
)

// Defaults of the Worker.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultBatchSize    = 50
)

// Worker drains the event queue: it wakes when the store says events were
// stored (Notify) and polls every PollInterval in case a wake-up was missed
// or another process stored them. Events go to the Dispatcher one at a time
// in id order; an event whose dispatch fails stays queued and is retried at
// the next poll, ahead of later ones.
type Worker struct {
	Queue      hub.EventQueue
	Dispatcher hub.EventDispatcher
	// Lease, when set, must be held to dispatch: with several replicas one
	// drains the queue. The notification dispatcher takes an event off the
	// queue by compare-and-set in the transaction that queues its mails, so
	// this saves wasted work, not duplicate mails; the event in hand when
	// the lease is lost still goes out.
	Lease        hub.Lease
	PollInterval time.Duration
	BatchSize    int
	Logger       *slog.Logger

	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewWorker returns a Worker with the default settings.
func NewWorker(queue hub.EventQueue, dispatcher hub.EventDispatcher, logger *slog.Logger) *Worker {
	return &Worker{
		Queue:        queue,
		Dispatcher:   dispatcher,
		PollInterval: DefaultPollInterval,
		BatchSize:    DefaultBatchSize,
		Logger:       logger,
		wake:         make(chan struct{}, 1),
	}
}

// Notify wakes the worker; it never blocks, and wake-ups coalesce.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Open starts the loop; it drains the queue at once, so events left
// undispatched by a previous run go out first.
func (w *Worker) Open() error {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		ticker := time.NewTicker(w.PollInterval)
		defer ticker.Stop()
		for {
			if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
				w.Logger.Error("event dispatch failed; retrying at the next poll", slog.Any("error", err))
			}
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			case <-ticker.C:
			}
		}
	}()
	return nil
}

// Close stops the loop, waiting for the event in hand until ctx ends.
func (w *Worker) Close(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RunOnce dispatches queued events until the queue is empty, a dispatch
// fails or the Lease is lost, and returns how many it dispatched. It is not
// safe to call concurrently on one Worker.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	n := 0
	for {
		if !hub.LeaseHeld(w.Lease) {
			return n, nil
		}
		events, err := w.Queue.FindUndispatchedEvents(ctx, w.BatchSize)
		if err != nil {
			return n, err
		}
		for _, e := range events {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if !hub.LeaseHeld(w.Lease) {
				return n, nil
			}
			if err := w.Dispatcher.DispatchEvent(ctx, e); err != nil {
				return n, fmt.Errorf("dispatch event %d: %w", e.ID, err)
			}
			if err := w.Queue.MarkEventDispatched(ctx, e.ID); err != nil {
				return n, err
			}
			n++
		}
		if len(events) < w.BatchSize {
			return n, nil
		}
	}
}
