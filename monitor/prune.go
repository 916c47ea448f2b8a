package monitor

import (
	"context"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
)

// JobPrune names the prune in job_runs.
const JobPrune = "prune"

// Pruner deletes history older than MaxAge.
type Pruner struct {
	Store  hub.PruneService
	MaxAge time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Run prunes everything older than MaxAge before now.
func (p *Pruner) Run(ctx context.Context, _ time.Time) error {
	before := p.Now().Add(-p.MaxAge)
	results, err := p.Store.Prune(ctx, before)
	for _, r := range results {
		p.Logger.Info("pruned", "step", r.Step, "deleted", r.Deleted, "before", before.UTC().Format(time.RFC3339))
	}
	return err
}
