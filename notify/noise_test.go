package notify_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
)

// TestNoiseDecisions is the table of noise control's decisions: every skip
// reason it adds (incident, flapping, inhibited, digested), their order,
// what they never touch (recoveries are never inhibited, a cooldown stays
// a cooldown), the operator-only types, and ordinary events still sending.
func TestNoiseDecisions(t *testing.T) {
	policy := notify.Policy{
		OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour,
		Noise: notify.NoisePolicy{FlapThreshold: 4, DigestWindow: 10 * time.Minute},
	}
	prefs := &hub.NotificationPrefs{CustomerID: "kovacs", Email: "anna@example.hu",
		EnabledEvents: []string{"node_stale", "node_down", "node_recovered", "host_stale", "host_recovered",
			"backup_failed", "node_flapping", "fleet_incident"}, CooldownHours: intPtr(0)}
	held := &hub.HeldDigest{OutboxID: 7, LogID: 9, Items: []hub.DigestItem{{EventType: "backup_failed"}}}
	op := func(k string) hub.CooldownKey { return hub.CooldownKey{Channel: hub.ChannelOperator, Key: k} }

	type want struct{ operator, customer string } // status or skip reason
	tests := []struct {
		name           string
		eventType      string
		severity       string
		noise          hub.NoiseState
		noCustomer     bool
		lastSent       map[hub.CooldownKey]time.Time
		digestOff      bool
		want           want
		wantHold       time.Duration
		wantCooldownCu bool
	}{
		{name: "ordinary error sends, the customer's after the digest window", eventType: "backup_failed", severity: "error",
			want: want{"queued", "queued"}, wantHold: 10 * time.Minute},
		{name: "ordinary error with digests off sends at once", eventType: "backup_failed", severity: "error", digestOff: true,
			want: want{"queued", "queued"}},
		{name: "node stale sends", eventType: "node_stale", severity: "warning", noise: hub.NoiseState{Transitions: 1},
			want: want{"queued", "queued"}, wantHold: 10 * time.Minute},
		{name: "a third transition in an hour still sends", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{Transitions: 3}, want: want{"queued", "queued"}, wantHold: 10 * time.Minute},
		{name: "the fourth transition is flapping", eventType: "node_recovered", severity: "info",
			noise: hub.NoiseState{Transitions: 4}, want: want{hub.SkipNotEnabled, hub.SkipFlapping}},
		{name: "stale while an episode is open is flapping", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{Transitions: 1, Flapping: true}, want: want{hub.SkipFlapping, hub.SkipFlapping}},
		{name: "a flapping host's stale is flapping", eventType: "host_stale", severity: "warning",
			noise: hub.NoiseState{Transitions: 5}, want: want{hub.SkipFlapping, hub.SkipFlapping}},
		{name: "down is not a flap transition", eventType: "node_down", severity: "error",
			noise: hub.NoiseState{Flapping: true}, want: want{"queued", "queued"}, wantHold: 10 * time.Minute},
		{name: "node stale with its host down is inhibited", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{HostDown: "pve-kovacs"}, want: want{hub.SkipInhibited, hub.SkipInhibited}},
		{name: "node down with its host down is inhibited", eventType: "node_down", severity: "error",
			noise: hub.NoiseState{HostDown: "pve-kovacs"}, want: want{hub.SkipInhibited, hub.SkipInhibited}},
		{name: "a recovery is never inhibited", eventType: "node_recovered", severity: "info",
			noise: hub.NoiseState{HostDown: "pve-kovacs"}, want: want{hub.SkipNotEnabled, "queued"}, wantHold: 10 * time.Minute},
		{name: "the host's own mail is not inhibited", eventType: "host_stale", severity: "warning",
			noise: hub.NoiseState{HostDown: "pve-kovacs"}, want: want{"queued", "queued"}, wantHold: 10 * time.Minute},
		{name: "stale in a fleet incident", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{Incident: 3}, want: want{hub.SkipIncident, hub.SkipIncident}},
		{name: "down in a fleet incident", eventType: "node_down", severity: "error",
			noise: hub.NoiseState{Incident: 3, HostDown: "pve-kovacs"}, want: want{hub.SkipIncident, hub.SkipIncident}},
		{name: "back in a fleet incident", eventType: "node_recovered", severity: "info",
			noise: hub.NoiseState{Incident: 3}, want: want{hub.SkipNotEnabled, hub.SkipIncident}},
		{name: "incident wins over flapping", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{Incident: 3, Flapping: true}, want: want{hub.SkipIncident, hub.SkipIncident}},
		{name: "a backup failure of a node in an incident still sends", eventType: "backup_failed", severity: "error",
			noise: hub.NoiseState{Incident: 3}, want: want{"queued", "queued"}, wantHold: 10 * time.Minute},
		{name: "a cooldown stays a cooldown", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{HostDown: "pve-kovacs"}, lastSent: map[hub.CooldownKey]time.Time{op("node_stale"): epoch.Add(-time.Minute)},
			want: want{hub.SkipCooldown, hub.SkipInhibited}},
		{name: "a customer mail joins the digest held", eventType: "backup_failed", severity: "error",
			noise: hub.NoiseState{Digest: held}, want: want{"queued", hub.SkipDigested}, wantCooldownCu: true},
		{name: "a held digest does not take an inhibited mail", eventType: "node_stale", severity: "warning",
			noise: hub.NoiseState{Digest: held, HostDown: "h"}, want: want{hub.SkipInhibited, hub.SkipInhibited}},
		{name: "node_flapping goes to the operator only, past the cooldown", eventType: "node_flapping", severity: "warning",
			lastSent: map[hub.CooldownKey]time.Time{op("node_flapping"): epoch.Add(-time.Minute)},
			want:     want{"queued", hub.SkipNotEnabled}},
		{name: "node_flapping's summary is info and still reaches the operator", eventType: "node_flapping", severity: "info",
			want: want{"queued", hub.SkipNotEnabled}},
		{name: "fleet incident has no customer", eventType: "fleet_incident", severity: "error", noCustomer: true,
			want: want{"queued", hub.SkipNotEnabled}},
		{name: "fleet incident resolved", eventType: "fleet_incident_resolved", severity: "info", noCustomer: true,
			want: want{"queued", hub.SkipNotEnabled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy
			if tt.digestOff {
				p.Noise.DigestWindow = 0
			}
			st := &hub.NotificationState{Now: epoch, Customer: &hub.Customer{ID: "kovacs"}, Prefs: prefs,
				LastSent: tt.lastSent, Noise: tt.noise}
			if tt.noCustomer {
				st.Customer, st.Prefs = nil, nil
			}
			ds := p.Decide(tt.eventType, tt.severity, st)
			if len(ds) != 2 || ds[0].Channel != hub.ChannelOperator || ds[1].Channel != hub.ChannelCustomer {
				t.Fatalf("decisions %+v", ds)
			}
			got := want{outcome(ds[0]), outcome(ds[1])}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if ds[1].Hold != tt.wantHold || ds[0].Hold != 0 {
				t.Errorf("holds: operator %v, customer %v; want customer %v", ds[0].Hold, ds[1].Hold, tt.wantHold)
			}
			if tt.wantCooldownCu && ds[1].Cooldown.Key != tt.eventType {
				t.Errorf("a digested mail starts its cooldown: %+v", ds[1])
			}
			for _, d := range ds {
				if d.Status == hub.NotificationSkipped && d.Reason != hub.SkipDigested && d.Cooldown != (hub.CooldownKey{}) {
					t.Errorf("a skipped decision starts a cooldown: %+v", d)
				}
			}
		})
	}
}

func outcome(d notify.Decision) string {
	if d.Status == hub.NotificationQueued {
		return "queued"
	}
	return d.Reason
}

// TestFlappingThresholdOff: a threshold of 0 counts no transitions; an
// open episode still holds mails back (it was opened while it was on).
func TestFlappingThresholdOff(t *testing.T) {
	p := notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour}
	st := &hub.NotificationState{Now: epoch, Customer: &hub.Customer{ID: "kovacs"}, Noise: hub.NoiseState{Transitions: 40}}
	if d := p.Decide("node_stale", "warning", st)[0]; d.Status != hub.NotificationQueued {
		t.Errorf("threshold 0: %+v", d)
	}
	st.Noise.Flapping = true
	if d := p.Decide("node_stale", "warning", st)[0]; d.Reason != hub.SkipFlapping {
		t.Errorf("open episode: %+v", d)
	}
}

func TestIncidentRule(t *testing.T) {
	r := hub.IncidentRule{Fraction: 0.3, Window: 10 * time.Minute}
	for _, tt := range []struct {
		silent, reporting int
		want              bool
	}{
		{20, 50, true}, {15, 50, true}, {14, 50, false}, {4, 10, false}, {5, 10, true}, {5, 17, false}, {6, 17, true},
		{5, 0, false}, {0, 0, false}, {1000, 1000, true},
	} {
		if got := r.Opens(tt.silent, tt.reporting); got != tt.want {
			t.Errorf("Opens(%d, %d) = %v", tt.silent, tt.reporting, got)
		}
	}
	if (hub.IncidentRule{Window: time.Minute}).Opens(50, 50) || (hub.IncidentRule{Fraction: 0.3}).Opens(50, 50) {
		t.Error("a zero fraction or window must turn incidents off")
	}
	if !r.Resolves(20, 20, time.Time{}, epoch) || r.Resolves(20, 0, time.Time{}, epoch) ||
		r.Resolves(20, 19, epoch.Add(-9*time.Minute), epoch) || !r.Resolves(20, 19, epoch.Add(-10*time.Minute), epoch) {
		t.Error("Resolves")
	}
}
