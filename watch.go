package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MonitorState is where a node or host stands in the dead man's switch.
type MonitorState string

// The monitor states. A node is unknown until its first report after
// monitoring started, so a node first seen already old never alerts.
const (
	StateUnknown MonitorState = "unknown"
	StateUp      MonitorState = "up"
	StateStale   MonitorState = "stale"
	StateDown    MonitorState = "down"
)

// WatchKind says what a dead man's switch watches.
type WatchKind string

// The watched kinds: controller nodes (one per customer) and Proxmox hosts.
const (
	WatchNode WatchKind = "node"
	WatchHost WatchKind = "host"
)

// WithDefaults returns t with the defaults filled in where t has none.
func (t Thresholds) WithDefaults(defaults Thresholds) Thresholds {
	if t.Stale <= 0 {
		t.Stale = defaults.Stale
	}
	if t.Down <= 0 {
		t.Down = defaults.Down
	}
	return t
}

// Watch is the dead man's switch state of one node or host, as the
// staleness checker reads it.
type Watch struct {
	Kind WatchKind
	// ID is the customer id of a node or the host id of a host.
	ID         string
	CustomerID string
	// Name is what messages call it: the customer id or the hostname.
	Name  string
	State MonitorState
	// LastReportID and LastSeen identify the latest report; a state change
	// is applied only while they are unchanged.
	LastReportID int64
	LastSeen     time.Time
	// NextDeadline is when the state must be looked at again.
	NextDeadline time.Time
	// Thresholds are the effective thresholds (overrides and defaults).
	Thresholds Thresholds
	// Muted is true for blocked, paused and DISABLED nodes: they never alert.
	Muted bool
}

// WatchUpdate is a checker decision about one watch.
type WatchUpdate struct {
	// Watch is the state the decision was made from; the update applies only
	// if the stored state and latest report are still the same.
	Watch Watch
	State MonitorState
	// NextDeadline is nil when there is nothing more to wait for.
	NextDeadline *time.Time
	// Event is stored with the update, in the same transaction; nil for none.
	Event *Event
}

// WatchService holds the dead man's switch state of nodes and hosts.
type WatchService interface {
	// FindDueWatches returns up to limit watches of the kind whose deadline
	// is before now, earliest first.
	FindDueWatches(ctx context.Context, kind WatchKind, now time.Time, limit int) ([]Watch, error)
	// ApplyWatchUpdates applies each update with a compare-and-set on the
	// state and latest report, storing its event in the same transaction,
	// and returns the events stored.
	ApplyWatchUpdates(ctx context.Context, updates []WatchUpdate) ([]*Event, error)
	// CreditOutage moves the deadline of every watch later by the part of
	// [from, to) in which it was silent, because no node can report while the
	// hub is down, and records to as the last run of job, in one transaction.
	CreditOutage(ctx context.Context, job string, from, to time.Time) error
}

// The dead man's switch's rules live here, in one place: Evaluate is what
// the clock does to a watch, Report what a report does to it. The checker
// and the store only read, call these, and write.

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
// A report, not the clock, moves a watch back to up (Report).
func (w Watch) Evaluate(now time.Time) (WatchUpdate, bool) {
	u := WatchUpdate{Watch: w, State: w.State}
	switch {
	case w.State != StateUp && w.State != StateStale:
		return u, !w.NextDeadline.IsZero()
	case !now.After(w.NextDeadline):
		return u, false
	case w.Muted:
		next := now.Add(w.Thresholds.Stale)
		u.NextDeadline = &next
		return u, true
	}
	if w.State == StateUp {
		// The stale deadline is the report's time plus the stale threshold;
		// the down deadline follows it by the difference of the thresholds.
		downAt := w.NextDeadline.Add(max(w.Thresholds.Down-w.Thresholds.Stale, 0))
		if !now.After(downAt) {
			u.State = StateStale
			u.NextDeadline = &downAt
			u.Event = NewWatchEvent(w, StateStale, now, w.LastReportID)
			return u, true
		}
	}
	u.State = StateDown
	u.Event = NewWatchEvent(w, StateDown, now, w.LastReportID)
	return u, true
}

// Report decides what a report received at now, stored as reportID, does to
// the watch: it is up again, with its stale deadline one stale threshold
// away, and a watch that was stale or down has recovered (an event) unless
// it is muted or the report says monitoring is off on the node.
func (w Watch) Report(now time.Time, reportID int64, monitoringEnabled bool) WatchUpdate {
	next := now.Add(w.Thresholds.Stale)
	u := WatchUpdate{Watch: w, State: StateUp, NextDeadline: &next}
	if !w.Muted && monitoringEnabled && (w.State == StateStale || w.State == StateDown) {
		u.Event = NewWatchEvent(w, StateUp, now, reportID)
	}
	return u
}

// watchEventTypes names the event of each transition per kind.
var watchEventTypes = map[WatchKind]map[MonitorState]string{
	WatchNode: {StateStale: EventNodeStale, StateDown: EventNodeDown, StateUp: EventNodeRecovered},
	WatchHost: {StateStale: EventHostStale, StateDown: EventHostDown, StateUp: EventHostRecovered},
}

// watchSeverities is the severity of the event of each transition.
var watchSeverities = map[MonitorState]string{
	StateStale: SeverityWarning,
	StateDown:  SeverityError,
	StateUp:    SeverityInfo,
}

// NewWatchEvent builds the hub event of a transition of w to state to at now:
// stale, down, or up again (recovered; w.LastSeen is then the report before
// the silence and reportID the report that ended it). Its dedupe key names
// the silence, so that each transition is stored once however often it is
// decided.
func NewWatchEvent(w Watch, to MonitorState, now time.Time, reportID int64) *Event {
	silent := now.Sub(w.LastSeen)
	if silent < 0 {
		silent = 0
	}
	var msg string
	details := map[string]any{
		"last_report_at":     w.LastSeen.UTC().Format(time.RFC3339),
		"silent_for_seconds": int64(silent / time.Second),
	}
	what := string(w.Kind) + " " + w.Name
	switch to {
	case StateStale:
		msg = fmt.Sprintf("%s has not reported for %s (stale after %s)", what, FormatDuration(silent), FormatDuration(w.Thresholds.Stale))
		details["threshold_seconds"] = int64(w.Thresholds.Stale / time.Second)
	case StateDown:
		msg = fmt.Sprintf("%s has not reported for %s: it is down (down after %s)", what, FormatDuration(silent), FormatDuration(w.Thresholds.Down))
		details["threshold_seconds"] = int64(w.Thresholds.Down / time.Second)
	case StateUp:
		msg = fmt.Sprintf("%s is reporting again after %s of silence", what, FormatDuration(silent))
		details["previous_state"] = string(w.State)
	}
	if w.Kind == WatchHost {
		details["host_id"] = w.ID
	}
	body, _ := json.Marshal(details) // a map of strings and numbers always encodes
	typ := watchEventTypes[w.Kind][to]
	return &Event{
		CustomerID: w.CustomerID,
		Type:       typ,
		Severity:   watchSeverities[to],
		Source:     SourceHub,
		Message:    msg,
		Details:    body,
		OccurredAt: now,
		DedupeKey:  fmt.Sprintf("%s:%s:%d", typ, w.ID, reportID),
		SubjectID:  w.ID,
	}
}

// FormatDuration writes d rounded to the minute, such as "1h5m", "2h" or "45m";
// under a minute it is written in seconds.
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s") // "1h5m0s" -> "1h5m"
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
