package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// JobStalenessChecker names the checker in job_runs: its last pass.
const JobStalenessChecker = "staleness_checker"

// Defaults of the StalenessChecker.
const (
	DefaultCheckInterval = 60 * time.Second
	DefaultOutageGrace   = 5 * time.Minute
	DefaultBatchSize     = 500
)

// maxBatchesPerPass bounds one pass; whatever is left is due at the next.
const maxBatchesPerPass = 1000

// StalenessChecker is the dead man's switch of nodes and hosts. Every
// Interval it reads the watches whose deadline has passed (a quiet pass reads
// almost nothing), decides with Evaluate, and applies each decision with a
// compare-and-set that stores its event in the same transaction, so that a
// crash or a second hub never loses a transition or fires one twice.
type StalenessChecker struct {
	Watches hub.WatchService
	Runs    hub.JobRunService
	// Kinds are checked in order in every pass.
	Kinds []hub.WatchKind
	// Interval is the time between passes.
	Interval time.Duration
	// OutageGrace is the longest gap between passes that is not an outage
	// of the hub. After a longer one, the first pass credits every watch
	// with the silence the outage caused: nodes could not report to a hub
	// that was down, and must not all be declared down when it is back.
	OutageGrace time.Duration
	BatchSize   int
	Now         func() time.Time
	Logger      *slog.Logger
	// OnPass, when set, is told of every completed pass (for metrics).
	OnPass func(PassResult)
	// Noise, when set, runs alert noise control in every pass (noise.go).
	Noise *NoiseCheck

	outageChecked bool
	loop          loop.Loop
}

// NewStalenessChecker returns a checker of nodes and hosts with the default
// settings. Hosts are checked first: a host and its controller silenced
// together go stale in one pass, and the controller's alert is inhibited.
func NewStalenessChecker(watches hub.WatchService, runs hub.JobRunService, logger *slog.Logger) *StalenessChecker {
	return &StalenessChecker{
		Watches:     watches,
		Runs:        runs,
		Kinds:       []hub.WatchKind{hub.WatchHost, hub.WatchNode},
		Interval:    DefaultCheckInterval,
		OutageGrace: DefaultOutageGrace,
		BatchSize:   DefaultBatchSize,
		Now:         time.Now,
		Logger:      logger,
	}
}

// Open starts the loop: a pass now, then one every Interval.
func (c *StalenessChecker) Open() error {
	return c.loop.Open(loop.Config{
		Run: func(ctx context.Context) error {
			_, err := c.RunOnce(ctx)
			return err
		},
		Interval: c.Interval,
		Logger:   c.Logger,
		Level:    slog.LevelError,
		Message:  "staleness pass failed",
		Name:     "staleness pass",
	})
}

// Close stops the loop, waiting for a running pass until ctx ends.
func (c *StalenessChecker) Close(ctx context.Context) error { return c.loop.Close(ctx) }

// PassResult is what one pass did.
type PassResult struct {
	// Due is the number of watches read, Updated the decisions written.
	Due, Updated int
	Events       []*hub.Event
}

// RunOnce runs one pass over every kind. It is not safe to call
// concurrently on one checker; two checkers (two hubs) are safe.
func (c *StalenessChecker) RunOnce(ctx context.Context) (PassResult, error) {
	var res PassResult
	now := c.Now().UTC()
	if !c.outageChecked {
		if err := c.creditOutage(ctx, now); err != nil {
			return res, err
		}
		c.outageChecked = true
	}
	if err := c.Noise.beforePass(ctx, now, &res); err != nil {
		return res, err
	}
	for _, kind := range c.Kinds {
		if err := c.passKind(ctx, kind, now, &res); err != nil {
			return res, err
		}
	}
	if err := c.Noise.afterPass(ctx, now, &res); err != nil {
		return res, err
	}
	for _, e := range res.Events {
		c.Logger.Info("dead man's switch", "customer_id", e.CustomerID, "event_type", e.Type)
	}
	if err := c.Runs.RecordJobRun(ctx, JobStalenessChecker, now); err != nil {
		return res, err
	}
	if c.OnPass != nil {
		c.OnPass(res)
	}
	return res, nil
}

// creditOutage credits the watches with a hub outage since the last pass.
func (c *StalenessChecker) creditOutage(ctx context.Context, now time.Time) error {
	last, err := c.Runs.FindJobRun(ctx, JobStalenessChecker)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if gap := now.Sub(last); gap > c.OutageGrace {
		if err := c.Watches.CreditOutage(ctx, JobStalenessChecker, last, now); err != nil {
			return err
		}
		c.Logger.Warn("the staleness checker did not run for a while (hub outage): silence in that time is not held against nodes",
			"last_pass", last, "gap", hub.FormatDuration(gap))
	}
	return nil
}

// passKind moves every due watch of one kind, batch by batch.
func (c *StalenessChecker) passKind(ctx context.Context, kind hub.WatchKind, now time.Time, res *PassResult) error {
	for range maxBatchesPerPass {
		due, err := c.Watches.FindDueWatches(ctx, kind, now, c.BatchSize)
		if err != nil {
			return err
		}
		res.Due += len(due)
		var updates []hub.WatchUpdate
		for _, w := range due {
			if u, ok := w.Evaluate(now); ok {
				updates = append(updates, u)
			}
		}
		if len(updates) > 0 {
			stored, err := c.Watches.ApplyWatchUpdates(ctx, updates)
			if err != nil {
				return fmt.Errorf("apply %s decisions: %w", kind, err)
			}
			res.Updated += len(updates)
			res.Events = append(res.Events, stored...)
		}
		if len(due) < c.BatchSize || len(updates) == 0 {
			return nil
		}
	}
	return nil
}
