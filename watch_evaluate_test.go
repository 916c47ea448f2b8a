package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestEvaluate(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) // the last report
	thresholds := hub.Thresholds{Stale: 30 * time.Minute, Down: 60 * time.Minute}
	watch := func(state hub.MonitorState, deadline time.Time, muted bool) hub.Watch {
		return hub.Watch{Kind: hub.WatchNode, ID: "a-node", CustomerID: "a-node", Name: "a-node",
			State: state, LastReportID: 7, LastSeen: t0, NextDeadline: deadline, Thresholds: thresholds, Muted: muted}
	}
	staleAt, downAt := t0.Add(30*time.Minute), t0.Add(60*time.Minute)
	tests := []struct {
		name         string
		w            hub.Watch
		now          time.Time
		write        bool
		state        hub.MonitorState
		deadline     time.Time // zero: none
		event        string
		wantSeverity string
	}{
		{"up before deadline", watch(hub.StateUp, staleAt, false), t0.Add(29 * time.Minute), false, hub.StateUp, staleAt, "", ""},
		{"up at deadline", watch(hub.StateUp, staleAt, false), staleAt, false, hub.StateUp, staleAt, "", ""},
		{"up past stale", watch(hub.StateUp, staleAt, false), staleAt.Add(time.Second), true, hub.StateStale, downAt, hub.EventNodeStale, hub.SeverityWarning},
		{"up at down deadline", watch(hub.StateUp, staleAt, false), downAt, true, hub.StateStale, downAt, hub.EventNodeStale, hub.SeverityWarning},
		{"up past down (outage, missed passes)", watch(hub.StateUp, staleAt, false), downAt.Add(time.Second), true, hub.StateDown, time.Time{}, hub.EventNodeDown, hub.SeverityError},
		{"stale before down", watch(hub.StateStale, downAt, false), downAt.Add(-time.Second), false, hub.StateStale, downAt, "", ""},
		{"stale past down", watch(hub.StateStale, downAt, false), downAt.Add(time.Second), true, hub.StateDown, time.Time{}, hub.EventNodeDown, hub.SeverityError},
		{"muted up past stale", watch(hub.StateUp, staleAt, true), staleAt.Add(time.Minute), true, hub.StateUp, staleAt.Add(31 * time.Minute), "", ""},
		{"muted stale past down", watch(hub.StateStale, downAt, true), downAt.Add(time.Minute), true, hub.StateStale, downAt.Add(31 * time.Minute), "", ""},
		{"muted before deadline", watch(hub.StateUp, staleAt, true), t0, false, hub.StateUp, staleAt, "", ""},
		{"down with a deadline", watch(hub.StateDown, downAt, false), downAt.Add(time.Hour), true, hub.StateDown, time.Time{}, "", ""},
		{"down without a deadline", watch(hub.StateDown, time.Time{}, false), downAt.Add(time.Hour), false, hub.StateDown, time.Time{}, "", ""},
		{"unknown", watch(hub.StateUnknown, time.Time{}, false), downAt.Add(time.Hour), false, hub.StateUnknown, time.Time{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, write := tt.w.Evaluate(tt.now)
			if write != tt.write {
				t.Fatalf("write = %v, want %v", write, tt.write)
			}
			if !write {
				return
			}
			if u.State != tt.state {
				t.Errorf("state = %s, want %s", u.State, tt.state)
			}
			switch {
			case tt.deadline.IsZero() && u.NextDeadline != nil:
				t.Errorf("deadline = %v, want none", *u.NextDeadline)
			case !tt.deadline.IsZero() && (u.NextDeadline == nil || !u.NextDeadline.Equal(tt.deadline)):
				t.Errorf("deadline = %v, want %v", u.NextDeadline, tt.deadline)
			}
			switch {
			case tt.event == "" && u.Event != nil:
				t.Errorf("event %s, want none", u.Event.Type)
			case tt.event != "" && u.Event == nil:
				t.Errorf("no event, want %s", tt.event)
			case tt.event != "":
				if u.Event.Type != tt.event || u.Event.Severity != tt.wantSeverity || u.Event.Source != hub.SourceHub || u.Event.CustomerID != "a-node" {
					t.Errorf("event %+v, want %s/%s", u.Event, tt.event, tt.wantSeverity)
				}
				if want := tt.event + ":a-node:7"; u.Event.DedupeKey != want {
					t.Errorf("dedupe key %q, want %q", u.Event.DedupeKey, want)
				}
			}
		})
	}
}

func TestEvaluateDownNotAfterStale(t *testing.T) {
	// A stale override longer than the default down threshold: the node
	// goes straight to down at its stale deadline, never down before stale.
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	w := hub.Watch{Kind: hub.WatchNode, ID: "a", CustomerID: "a", State: hub.StateUp, LastSeen: t0,
		NextDeadline: t0.Add(90 * time.Minute), Thresholds: hub.Thresholds{Stale: 90 * time.Minute, Down: 60 * time.Minute}}
	u, ok := w.Evaluate(t0.Add(90*time.Minute + time.Second))
	if !ok || u.State != hub.StateDown {
		t.Fatalf("got %v %+v, want down", ok, u)
	}
}

// TestWatchReport: a report moves any watch to up with a stale deadline one
// threshold away; it recovers (an event) only from stale or down, and only
// when neither the hub nor the node has muted it.
func TestWatchReport(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	now := t0.Add(2 * time.Hour)
	for _, tt := range []struct {
		state      hub.MonitorState
		muted      bool
		monitoring bool
		recovered  bool
	}{
		{hub.StateUnknown, false, true, false},
		{hub.StateUp, false, true, false},
		{hub.StateStale, false, true, true},
		{hub.StateDown, false, true, true},
		{hub.StateDown, true, true, false},
		{hub.StateDown, false, false, false},
	} {
		w := hub.Watch{Kind: hub.WatchNode, ID: "ab", CustomerID: "ab", Name: "ab", State: tt.state,
			LastSeen: t0, Muted: tt.muted, Thresholds: hub.DefaultThresholds}
		u := w.Report(now, 42, tt.monitoring)
		if u.State != hub.StateUp || u.NextDeadline == nil || !u.NextDeadline.Equal(now.Add(30*time.Minute)) {
			t.Errorf("%+v: update %v %v", tt, u.State, u.NextDeadline)
		}
		if got := u.Event != nil; got != tt.recovered {
			t.Errorf("%+v: recovered %v, want %v", tt, got, tt.recovered)
		} else if got && (u.Event.Type != hub.EventNodeRecovered || u.Event.DedupeKey != "node_recovered:ab:42") {
			t.Errorf("%+v: event %+v", tt, u.Event)
		}
	}
}
