package monitor

import (
	"context"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
)

// JobPrune names the prune in job_runs.
const JobPrune = "prune"

// Pruner deletes history older than MaxAge and expired rate-limit state
// (hub.PruneService), then, when History is set, trims each history tier
// and returns the freed pages to the operating system in small steps.
type Pruner struct {
	Store   hub.PruneService
	History hub.HistoryMaintenance
	MaxAge  time.Duration
	// ReclaimPages is how many pages one vacuum step moves (default 256,
	// 1 MiB); ReclaimPause the rest between steps.
	ReclaimPages int
	ReclaimPause time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Run prunes everything older than MaxAge before now, then the tiers.
func (p *Pruner) Run(ctx context.Context, _ time.Time) error {
	before := p.Now().Add(-p.MaxAge)
	results, err := p.Store.Prune(ctx, before)
	for _, r := range results {
		p.Logger.Info("pruned", "step", r.Step, "deleted", r.Deleted, "before", before.UTC().Format(time.RFC3339))
	}
	if err != nil || p.History == nil {
		return err
	}
	results, err = p.History.PruneHistory(ctx)
	for _, r := range results {
		p.Logger.Info("pruned history tier", "step", r.Step, "deleted", r.Deleted)
	}
	if err != nil {
		return err
	}
	return p.reclaim(ctx)
}

// reclaim runs incremental vacuum steps until no free page is left or a
// step makes no progress (pages freed meanwhile are left for tomorrow).
func (p *Pruner) reclaim(ctx context.Context) error {
	pages := p.ReclaimPages
	if pages <= 0 {
		pages = 256
	}
	steps, last := 0, int64(-1)
	for {
		free, err := p.History.ReclaimSpace(ctx, pages)
		if err != nil {
			return err
		}
		steps++
		if free == 0 || (last >= 0 && free >= last) {
			p.Logger.Info("returned free pages to the OS", "steps", steps, "pages_per_step", pages, "free_pages_left", free)
			return nil
		}
		last = free
		if err := rest(ctx, p.ReclaimPause); err != nil {
			return err
		}
	}
}
