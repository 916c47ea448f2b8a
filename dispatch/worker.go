// Package dispatch hands every stored event to the hub's one dispatch hook.
// The events table is the durable queue: an event is stored undispatched in
// the transaction that stores it, and leaves the queue only after the
// dispatcher took it, so no event is lost to a crash or a restart.
package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// Defaults of the Worker.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultBatchSize    = 50
	// DefaultMaxBackoff bounds the slower polls of a worker whose passes
	// keep failing (a database outage); a wake-up still runs at once.
	DefaultMaxBackoff = time.Minute
)

// Worker drains the event queue: it wakes when the store says events were
// stored (Notify) and polls every PollInterval in case a wake-up was missed
// or another process stored them. Events go to the Dispatcher one at a time
// in id order; an event whose dispatch fails stays queued and is retried at
// the next poll, ahead of later ones; while passes keep failing, the polls
// back off to MaxBackoff.
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
	// MaxBackoff, when above PollInterval, is the longest poll after
	// failed passes in a row (each doubles it).
	MaxBackoff time.Duration
	BatchSize  int
	Logger     *slog.Logger

	loop loop.Loop
}

// NewWorker returns a Worker with the default settings.
func NewWorker(queue hub.EventQueue, dispatcher hub.EventDispatcher, logger *slog.Logger) *Worker {
	return &Worker{
		Queue:        queue,
		Dispatcher:   dispatcher,
		PollInterval: DefaultPollInterval,
		MaxBackoff:   DefaultMaxBackoff,
		BatchSize:    DefaultBatchSize,
		Logger:       logger,
	}
}

// Notify wakes the worker; it never blocks, and wake-ups coalesce.
func (w *Worker) Notify() { w.loop.Wake() }

// Open starts the loop; it drains the queue at once, so events left
// undispatched by a previous run go out first.
func (w *Worker) Open() error {
	return w.loop.Open(loop.Config{
		Run: func(ctx context.Context) error {
			_, err := w.RunOnce(ctx)
			return err
		},
		Interval:   w.PollInterval,
		MaxBackoff: w.MaxBackoff,
		Logger:     w.Logger,
		Level:      slog.LevelError,
		Message:    "event dispatch failed; retrying at the next poll",
		Name:       "event dispatch",
	})
}

// Close stops the loop, waiting for the event in hand until ctx ends.
func (w *Worker) Close(ctx context.Context) error { return w.loop.Close(ctx) }

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
