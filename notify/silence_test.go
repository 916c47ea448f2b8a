package notify_test

import (
	"fmt"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
)

// silenceAt is a one-off silence of a scope from from to to.
func silenceAt(id int64, customer, host string, types []string, from, to time.Time) *hub.Silence {
	return &hub.Silence{ID: id, CustomerID: customer, HostID: host, EventTypes: types, StartsAt: from, EndsAt: to, Reason: "planned"}
}

// TestDecideSilencesAndAcks is the table of decisions about silenced and
// acknowledged events, and of those that must still go out.
func TestDecideSilencesAndAcks(t *testing.T) {
	policy := notify.Policy{
		OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour, EscalationEmail: "oncall@felhom.eu",
	}
	prefs := &hub.NotificationPrefs{CustomerID: "kovacs", Email: "anna@example.hu",
		EnabledEvents: []string{"backup_failed", "node_down", "node_recovered", "host_down", "host_recovered", "alert_reminder"}}
	now := epoch
	hour := time.Hour
	customerSilence := silenceAt(7, "kovacs", "", nil, now.Add(-hour), now.Add(hour))
	otherSilence := silenceAt(8, "szabo", "", nil, now.Add(-hour), now.Add(hour))
	typeSilence := silenceAt(9, "", "", []string{"node_down"}, now.Add(-hour), now.Add(hour))
	upcoming := silenceAt(10, "kovacs", "", nil, now.Add(hour), now.Add(2*hour))
	ended := silenceAt(11, "kovacs", "", nil, now.Add(-2*hour), now.Add(hour))
	endedAt := now.Add(-time.Minute)
	ended.EndedAt = &endedAt
	hostSilence := silenceAt(12, "kovacs", "kovacs-3fa2c1", nil, now.Add(-hour), now.Add(hour))
	// Every day 09:00-11:00 Budapest (08:00-10:00 UTC in November): now,
	// 09:45 UTC, is inside; the one at 12:00 is not.
	window := silenceAt(13, "kovacs", "", nil, now.Add(-24*hour), now.Add(48*hour))
	window.Recurrence = &hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "09:00", Duration: "2h"}
	lateWindow := silenceAt(14, "kovacs", "", nil, now.Add(-24*hour), now.Add(48*hour))
	lateWindow.Recurrence = &hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "12:00", Duration: "2h"}
	for _, s := range []*hub.Silence{window, lateWindow} {
		if err := s.Validate(s.StartsAt); err != nil {
			t.Fatal(err)
		}
	}
	node := hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs"}
	host := hub.AlertSubject{Kind: hub.WatchHost, CustomerID: "kovacs", HostID: "kovacs-3fa2c1"}
	acked := &hub.OpenProblem{Kind: hub.WatchNode, WatchID: "kovacs", AckedAt: now.Add(-hour), AckedBy: "web:admin"}
	mutedBy := func(id int64) *hub.OpenProblem {
		return &hub.OpenProblem{Kind: hub.WatchNode, WatchID: "kovacs", MutedBy: id}
	}

	type want struct {
		operator, customer string // status or skip reason
		silence            int64  // the silence id of silenced decisions
		to                 string // the operator recipient, when it matters
	}
	tests := []struct {
		name      string
		eventType string
		severity  string
		subject   hub.AlertSubject
		silences  []*hub.Silence
		problem   *hub.OpenProblem
		blocked   bool
		noState   bool
		policy    func(*notify.Policy)
		lastSent  map[hub.CooldownKey]time.Time
		want      want
	}{
		{name: "no silence: both go", eventType: "node_down", severity: "error", subject: node,
			want: want{operator: "queued", customer: "queued"}},
		{name: "no alerting state at all: both go", eventType: "node_down", severity: "error", noState: true,
			want: want{operator: "queued", customer: "queued"}},
		{name: "customer silence mutes both channels", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{customerSilence},
			want:     want{operator: hub.SkipSilenced, customer: hub.SkipSilenced, silence: 7}},
		{name: "another customer's silence does not", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{otherSilence},
			want:     want{operator: "queued", customer: "queued"}},
		{name: "fleet-wide type silence covers its type", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{typeSilence},
			want:     want{operator: hub.SkipSilenced, customer: hub.SkipSilenced, silence: 9}},
		{name: "type silence leaves other types", eventType: "backup_failed", severity: "error", subject: node,
			silences: []*hub.Silence{typeSilence},
			want:     want{operator: "queued", customer: "queued"}},
		{name: "upcoming silence does not mute yet", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{upcoming},
			want:     want{operator: "queued", customer: "queued"}},
		{name: "ended silence does not mute", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{ended},
			want:     want{operator: "queued", customer: "queued"}},
		{name: "lowest silence id wins", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{typeSilence, customerSilence},
			want:     want{operator: hub.SkipSilenced, customer: hub.SkipSilenced, silence: 7}},
		{name: "host silence mutes its host", eventType: "host_down", severity: "error", subject: host,
			silences: []*hub.Silence{hostSilence},
			want:     want{operator: hub.SkipSilenced, customer: hub.SkipSilenced, silence: 12}},
		{name: "host silence leaves the node", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{hostSilence},
			want:     want{operator: "queued", customer: "queued"}},
		{name: "inside a maintenance window", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{window},
			want:     want{operator: hub.SkipSilenced, customer: hub.SkipSilenced, silence: 13}},
		{name: "outside a maintenance window", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{lateWindow},
			want:     want{operator: "queued", customer: "queued"}},
		{name: "recovery of a muted problem stays muted after the silence", eventType: "node_recovered", severity: "info",
			subject: node, problem: mutedBy(11),
			want: want{operator: hub.SkipNotEnabled, customer: hub.SkipSilenced, silence: 11}},
		{name: "recovery of an unmuted problem goes to the customer", eventType: "node_recovered", severity: "info",
			subject: node, problem: mutedBy(0),
			want: want{operator: hub.SkipNotEnabled, customer: "queued"}},
		{name: "blocked stays blocked under a silence", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{customerSilence}, blocked: true,
			want: want{operator: hub.SkipBlocked, customer: hub.SkipBlocked}},
		{name: "cooldown stays cooldown under a silence", eventType: "node_down", severity: "error", subject: node,
			silences: []*hub.Silence{customerSilence},
			lastSent: map[hub.CooldownKey]time.Time{{Channel: hub.ChannelOperator, Key: "node_down"}: now.Add(-time.Minute)},
			want:     want{operator: hub.SkipCooldown, customer: hub.SkipSilenced, silence: 7}},
		{name: "acknowledged: worse news skips the operator only", eventType: "node_down", severity: "error",
			subject: node, problem: acked,
			want: want{operator: hub.SkipAcknowledged, customer: "queued"}},
		{name: "acknowledged: other events still go", eventType: "backup_failed", severity: "error",
			subject: node, problem: acked,
			want: want{operator: "queued", customer: "queued"}},
		{name: "silence wins over acknowledgement", eventType: "node_down", severity: "error",
			subject: node, problem: acked, silences: []*hub.Silence{customerSilence},
			want: want{operator: hub.SkipSilenced, customer: hub.SkipSilenced, silence: 7}},
		{name: "reminder goes to the operator, never the customer", eventType: hub.EventAlertReminder, severity: "error",
			subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"},
			want:    want{operator: "queued", customer: hub.SkipNotEnabled, to: "ops@felhom.eu"}},
		{name: "reminder ignores the operator cooldown", eventType: hub.EventAlertReminder, severity: "error",
			subject:  hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"},
			lastSent: map[hub.CooldownKey]time.Time{{Channel: hub.ChannelOperator, Key: hub.EventAlertReminder}: now.Add(-time.Minute)},
			want:     want{operator: "queued", customer: hub.SkipNotEnabled}},
		{name: "reminder of an acknowledged problem", eventType: hub.EventAlertReminder, severity: "error",
			subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"}, problem: acked,
			want: want{operator: hub.SkipAcknowledged, customer: hub.SkipNotEnabled}},
		{name: "reminder under a silence of node_down", eventType: hub.EventAlertReminder, severity: "error",
			subject:  hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"},
			silences: []*hub.Silence{typeSilence},
			want:     want{operator: hub.SkipSilenced, customer: hub.SkipNotEnabled, silence: 9}},
		{name: "escalation goes to the escalation address", eventType: hub.EventAlertEscalation, severity: "error",
			subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"},
			want:    want{operator: "queued", customer: hub.SkipNotEnabled, to: "oncall@felhom.eu"}},
		{name: "no escalation address", eventType: hub.EventAlertEscalation, severity: "error",
			subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"},
			policy:  func(p *notify.Policy) { p.EscalationEmail = "" },
			want:    want{operator: hub.SkipNoAddress, customer: hub.SkipNotEnabled}},
		{name: "still down after the silence", eventType: hub.EventStillDownAfterSilence, severity: "error",
			subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: "node_down"}, problem: mutedBy(11),
			want: want{operator: "queued", customer: hub.SkipNotEnabled, to: "ops@felhom.eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy
			if tt.policy != nil {
				tt.policy(&p)
			}
			st := &hub.NotificationState{Now: now, Customer: &hub.Customer{ID: "kovacs", Blocked: tt.blocked},
				Prefs: prefs, LastSent: tt.lastSent}
			if !tt.noState {
				sub := tt.subject
				if sub.EventType == "" {
					sub.EventType = tt.eventType
				}
				st.Alerting = &hub.AlertingState{Subject: sub, Silences: tt.silences, Problem: tt.problem}
			}
			decs := p.Decide(tt.eventType, tt.severity, st)
			if len(decs) != 2 {
				t.Fatalf("%d decisions", len(decs))
			}
			got := map[string]notify.Decision{}
			for _, d := range decs {
				got[d.Channel] = d
			}
			outcome := func(d notify.Decision) string {
				if d.Status == hub.NotificationQueued {
					return "queued"
				}
				return d.Reason
			}
			if o, c := outcome(got[hub.ChannelOperator]), outcome(got[hub.ChannelCustomer]); o != tt.want.operator || c != tt.want.customer {
				t.Errorf("operator %s, customer %s; want %s, %s", o, c, tt.want.operator, tt.want.customer)
			}
			for _, d := range decs {
				wantID := int64(0)
				if d.Reason == hub.SkipSilenced {
					wantID = tt.want.silence
				}
				if d.SilenceID != wantID {
					t.Errorf("%s: silence id %d, want %d", d.Channel, d.SilenceID, wantID)
				}
			}
			if tt.want.to != "" && got[hub.ChannelOperator].Recipient != tt.want.to {
				t.Errorf("operator mail to %q, want %q", got[hub.ChannelOperator].Recipient, tt.want.to)
			}
		})
	}
}

// A legacy relay of a silenced customer is silenced too.
func TestDecideRelaySilenced(t *testing.T) {
	p := notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour}
	st := &hub.NotificationState{Now: epoch, Customer: &hub.Customer{ID: "kovacs"},
		Alerting: &hub.AlertingState{Subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: "kovacs", EventType: notify.RelayEventType},
			Silences: []*hub.Silence{silenceAt(3, "kovacs", "", nil, epoch.Add(-time.Hour), epoch.Add(time.Hour))}}}
	if d := p.DecideRelay("Backup failed", st); d.Reason != hub.SkipSilenced || d.SilenceID != 3 {
		t.Errorf("relay: %+v, want silenced by 3", d)
	}
	st.Alerting.Silences = nil
	if d := p.DecideRelay("Backup failed", st); d.Status != hub.NotificationQueued {
		t.Errorf("relay without silence: %+v", d)
	}
}

// BenchmarkDecideWithSilences is the per-event decision with 1,000 active
// silences over a fleet of 500 nodes: the worst case, in which every
// silence is loaded for every event (the store loads only the customer's
// and the fleet-wide ones).
func BenchmarkDecideWithSilences(b *testing.B) {
	p := notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour}
	now := epoch
	silences := make([]*hub.Silence, 1000)
	for i := range silences {
		s := silenceAt(int64(i+1), fmt.Sprintf("customer-%03d", i%500), "", nil, now.Add(-time.Hour), now.Add(24*time.Hour))
		if i%2 == 1 {
			// Half are maintenance windows (every day 08:00-10:00), the
			// costlier match.
			s.Recurrence = &hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "08:00", Duration: "2h"}
			if err := s.Validate(s.StartsAt); err != nil {
				b.Fatal(err)
			}
		}
		if i%10 == 0 {
			s.EventTypes = []string{"node_down", "host_down"}
		}
		silences = append(silences[:i], s)
	}
	prefs := &hub.NotificationPrefs{Email: "anna@example.hu", EnabledEvents: []string{"node_down"}}
	states := make([]*hub.NotificationState, 500)
	for i := range states {
		id := fmt.Sprintf("node-%03d", i) // no silence names these: every silence is tried
		states[i] = &hub.NotificationState{Now: now, Customer: &hub.Customer{ID: id}, Prefs: prefs,
			LastSent: map[hub.CooldownKey]time.Time{},
			Alerting: &hub.AlertingState{Subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: id, EventType: "backup_failed"}, Silences: silences}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if d := p.Decide("backup_failed", "error", states[i%len(states)]); d[0].Status != hub.NotificationQueued {
			b.Fatal(d)
		}
	}
}

// BenchmarkDecideWithSilencesAllInScope is the worst case: 1,000
// maintenance windows that all cover the event's scope and none of which
// is open now, so that every one's window is computed for every event.
func BenchmarkDecideWithSilencesAllInScope(b *testing.B) {
	p := notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour}
	now := epoch // 10:45 Budapest
	silences := make([]*hub.Silence, 1000)
	for i := range silences {
		s := silenceAt(int64(i+1), "", "", []string{"backup_failed"}, now.Add(-time.Hour), now.Add(24*time.Hour))
		s.Recurrence = &hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "22:00", Duration: "2h"}
		if err := s.Validate(s.StartsAt); err != nil {
			b.Fatal(err)
		}
		silences[i] = s
	}
	states := make([]*hub.NotificationState, 500)
	for i := range states {
		id := fmt.Sprintf("node-%03d", i)
		states[i] = &hub.NotificationState{Now: now, Customer: &hub.Customer{ID: id}, LastSent: map[hub.CooldownKey]time.Time{},
			Alerting: &hub.AlertingState{Subject: hub.AlertSubject{Kind: hub.WatchNode, CustomerID: id, EventType: "backup_failed"}, Silences: silences}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if d := p.Decide("backup_failed", "error", states[i%len(states)]); d[0].Status != hub.NotificationQueued {
			b.Fatal(d)
		}
	}
}
