package notify

import (
	"context"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// DefaultFollowUpInterval is the time between passes of the Alerter.
const DefaultFollowUpInterval = time.Minute

// Alerter follows open problems up: the one mail when a silence ends on a
// problem still open, reminders and escalation (FollowUpPolicy). Each pass
// reads the open problems, decides with FollowUps, and applies each
// decision with a compare-and-set that stores its events in the same
// transaction; the events then go through dispatch like any other.
type Alerter struct {
	Store  hub.AlertService
	Policy FollowUpPolicy
	// Lease, when set, must be held to run a pass: with several replicas
	// one decides. The compare-and-set and the events' dedupe keys keep a
	// pass that overlaps a lease change from mailing twice.
	Lease    hub.Lease
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger

	loop loop.Loop
}

// Open starts the loop: a pass now, then one every Interval.
func (a *Alerter) Open() error {
	interval := a.Interval
	if interval <= 0 {
		interval = DefaultFollowUpInterval
	}
	return a.loop.Open(loop.Config{
		Run: func(ctx context.Context) error {
			_, err := a.RunOnce(ctx)
			return err
		},
		Interval:   interval,
		MaxBackoff: 10 * interval,
		Logger:     a.Logger,
		Level:      slog.LevelError,
		Message:    "alert follow-up pass failed",
		Name:       "alert follow-up pass",
	})
}

// Wake runs a pass at once (after a silence was ended); it never blocks.
func (a *Alerter) Wake() { a.loop.Wake() }

// Close stops the loop, waiting for a running pass until ctx ends.
func (a *Alerter) Close(ctx context.Context) error { return a.loop.Close(ctx) }

// RunOnce runs one pass and returns the events it stored.
func (a *Alerter) RunOnce(ctx context.Context) ([]*hub.Event, error) {
	if !hub.LeaseHeld(a.Lease) {
		return nil, nil
	}
	now := a.Now().UTC()
	problems, err := a.Store.FindOpenProblems(ctx)
	if err != nil || len(problems) == 0 {
		return nil, err
	}
	active, err := a.Store.FindSilences(ctx, hub.SilenceFilter{State: hub.SilenceActive})
	if err != nil {
		return nil, err
	}
	muting := map[int64]*hub.Silence{}
	for _, s := range active {
		muting[s.ID] = s
	}
	for _, p := range problems {
		if p.MutedBy == 0 || !p.FollowedUpAt.IsZero() {
			continue
		}
		if _, ok := muting[p.MutedBy]; ok {
			continue
		}
		s, err := a.Store.FindSilenceByID(ctx, p.MutedBy)
		if err != nil && hub.ErrorCode(err) != hub.ENOTFOUND {
			return nil, err
		}
		muting[p.MutedBy] = s // nil for a silence that is gone: it is over
	}
	actions := a.Policy.FollowUps(now, problems, muting, active)
	if len(actions) == 0 {
		return nil, nil
	}
	stored, err := a.Store.ApplyAlertActions(ctx, actions)
	for _, e := range stored {
		a.Logger.Info("alert follow-up", "customer_id", e.CustomerID, "event_type", e.Type)
	}
	return stored, err
}
