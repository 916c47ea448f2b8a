// Package monitor holds the hub's background checks: the dead man's switch
// for nodes and hosts, and the daily jobs (backup deadline check, prune).
// Decisions are pure functions of the clock and the stored state; the loops
// around them only read, decide and write.
package monitor

import (
	"time"

	hub "github.com/felhom/hub"
)

// Evaluate decides what happens at now to a watch the checker found due. It
// returns false when nothing is to be written.
//
//   - up, past its stale deadline: stale (warning), or straight to down
//     (error) when the down deadline has passed too, as after a long outage;
//   - stale, past its down deadline: down;
//   - muted (blocked, paused, DISABLED): no event; looked at again one
//     stale threshold later, so that lifting the mute re-arms the switch;
//   - unknown and down: nothing to wait for until the next report.
//
// A report, not the clock, moves a watch back to up (see the store).
func Evaluate(now time.Time, w hub.Watch) (hub.WatchUpdate, bool) {
	u := hub.WatchUpdate{Watch: w, State: w.State}
	switch {
	case w.State != hub.StateUp && w.State != hub.StateStale:
		return u, !w.NextDeadline.IsZero()
	case !now.After(w.NextDeadline):
		return u, false
	case w.Muted:
		next := now.Add(w.Thresholds.Stale)
		u.NextDeadline = &next
		return u, true
	}
	if w.State == hub.StateUp {
		// The stale deadline is the report's time plus the stale threshold;
		// the down deadline follows it by the difference of the thresholds.
		downAt := w.NextDeadline.Add(max(w.Thresholds.Down-w.Thresholds.Stale, 0))
		if !now.After(downAt) {
			u.State = hub.StateStale
			u.NextDeadline = &downAt
			u.Event = hub.NewWatchEvent(w, hub.StateStale, now, w.LastReportID)
			return u, true
		}
	}
	u.State = hub.StateDown
	u.Event = hub.NewWatchEvent(w, hub.StateDown, now, w.LastReportID)
	return u, true
}
