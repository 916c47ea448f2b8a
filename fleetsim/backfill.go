package fleetsim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// Store is what a backfill writes into: the hub's store, with its clock
// set by the caller to each simulated moment.
type Store interface {
	CreateReport(ctx context.Context, r *hub.Report) (*hub.ReportResult, error)
	CreateEvent(ctx context.Context, e *hub.Event) error
}

// Backfill writes the fleet's history from from to to straight into a
// store, so that a demo hub starts with a week of charts and events. It
// calls setNow before each simulated moment; the store must read that clock.
// Reports come hourly until the last day, then every 15 minutes; silent
// nodes stop two hours before to.
func (f *Fleet) Backfill(ctx context.Context, st Store, setNow func(time.Time), from, to time.Time) error {
	recent := to.Add(-24 * time.Hour)
	silentFrom := to.Add(-2 * time.Hour)
	lastDay := ""
	for t := from; !t.After(to); {
		setNow(t)
		day := t.Format("2006-01-02")
		newDay := day != lastDay && t.Hour() >= 3
		if newDay {
			lastDay = day
		}
		for _, n := range f.Nodes {
			if n.Behaviour == Pending || (n.Behaviour == Silent && t.After(silentFrom)) {
				continue
			}
			n.Tick(15 * time.Minute)
			r, err := hub.ParseReport(n.Report(t, n.Behaviour != Paused), t)
			if err != nil {
				return fmt.Errorf("backfill report of %s: %w", n.CustomerID, err)
			}
			if _, err := st.CreateReport(ctx, r); err != nil {
				return err
			}
			if !newDay || n.Behaviour == Manual {
				continue
			}
			for _, e := range n.DailyEvents(t) {
				details, _ := json.Marshal(e.Details)
				ev := &hub.Event{CustomerID: e.CustomerID, Type: e.EventType, Severity: e.Severity,
					Source: hub.SourceController, Message: e.Message, Details: details, OccurredAt: t}
				if len(e.Details) == 0 {
					ev.Details = nil
				}
				if err := st.CreateEvent(ctx, ev); err != nil {
					return fmt.Errorf("backfill event of %s: %w", n.CustomerID, err)
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if t.Before(recent) {
			t = t.Add(time.Hour)
		} else {
			t = t.Add(15 * time.Minute)
		}
	}
	return nil
}
