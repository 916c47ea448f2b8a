package notify_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
)

var epoch = time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)

func intPtr(n int) *int { return &n }

func TestPolicyDecide(t *testing.T) {
	policy := notify.Policy{
		OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour,
	}
	prefs := &hub.NotificationPrefs{CustomerID: "kovacs", Email: "anna@example.hu",
		EnabledEvents: []string{"backup_failed", "node_down", "backup_completed"}}
	active := &hub.Customer{ID: "kovacs"}
	blocked := &hub.Customer{ID: "kovacs", Blocked: true}
	op := func(k string) hub.CooldownKey { return hub.CooldownKey{Channel: hub.ChannelOperator, Key: k} }
	cu := func(k string) hub.CooldownKey { return hub.CooldownKey{Channel: hub.ChannelCustomer, Key: k} }

	type want struct{ operator, customer string } // status or skip reason
	tests := []struct {
		name      string
		policy    func(*notify.Policy)
		eventType string
		severity  string
		customer  *hub.Customer
		prefs     *hub.NotificationPrefs
		noPrefs   bool
		lastSent  map[hub.CooldownKey]time.Time
		want      want
	}{
		{name: "error reaches both", eventType: "backup_failed", severity: "error",
			want: want{"queued", "queued"}},
		{name: "warning reaches the operator, customer did not enable it", eventType: "disk_space_warning", severity: "warning",
			want: want{"queued", hub.SkipNotEnabled}},
		{name: "info never goes to the operator", eventType: "backup_completed", severity: "info",
			want: want{hub.SkipNotEnabled, "queued"}},
		{name: "blocked customer gets nothing", eventType: "backup_failed", severity: "error", customer: blocked,
			want: want{hub.SkipBlocked, hub.SkipBlocked}},
		{name: "operator channel disabled", eventType: "backup_failed", severity: "error",
			policy: func(p *notify.Policy) { p.OperatorEnabled = false },
			want:   want{hub.SkipDisabled, "queued"}},
		{name: "customer channel disabled", eventType: "backup_failed", severity: "error",
			policy: func(p *notify.Policy) { p.CustomerEnabled = false },
			want:   want{"queued", hub.SkipDisabled}},
		{name: "disabled wins over blocked", eventType: "backup_failed", severity: "error", customer: blocked,
			policy: func(p *notify.Policy) { p.OperatorEnabled, p.CustomerEnabled = false, false },
			want:   want{hub.SkipDisabled, hub.SkipDisabled}},
		{name: "no operator address", eventType: "backup_failed", severity: "error",
			policy: func(p *notify.Policy) { p.OperatorEmail = "" },
			want:   want{hub.SkipNoAddress, "queued"}},
		{name: "no preferences", eventType: "backup_failed", severity: "error", noPrefs: true,
			want: want{"queued", hub.SkipNotEnabled}},
		{name: "preferences without an address", eventType: "backup_failed", severity: "error",
			prefs: &hub.NotificationPrefs{EnabledEvents: []string{"backup_failed"}},
			want:  want{"queued", hub.SkipNoAddress}},
		{name: "operator cooldown running", eventType: "backup_failed", severity: "error",
			lastSent: map[hub.CooldownKey]time.Time{op("backup_failed"): epoch.Add(-59 * time.Minute)},
			want:     want{hub.SkipCooldown, "queued"}},
		{name: "operator cooldown over", eventType: "backup_failed", severity: "error",
			lastSent: map[hub.CooldownKey]time.Time{op("backup_failed"): epoch.Add(-time.Hour)},
			want:     want{"queued", "queued"}},
		{name: "cooldown is per event type", eventType: "node_down", severity: "error",
			lastSent: map[hub.CooldownKey]time.Time{op("backup_failed"): epoch, cu("backup_failed"): epoch},
			want:     want{"queued", "queued"}},
		{name: "customer default cooldown running", eventType: "backup_failed", severity: "error",
			lastSent: map[hub.CooldownKey]time.Time{cu("backup_failed"): epoch.Add(-5 * time.Hour)},
			want:     want{"queued", hub.SkipCooldown}},
		{name: "customer default cooldown over", eventType: "backup_failed", severity: "error",
			lastSent: map[hub.CooldownKey]time.Time{cu("backup_failed"): epoch.Add(-6 * time.Hour)},
			want:     want{"queued", "queued"}},
		{name: "customer's own cooldown", eventType: "backup_failed", severity: "error",
			prefs:    &hub.NotificationPrefs{Email: "anna@example.hu", EnabledEvents: []string{"backup_failed"}, CooldownHours: intPtr(1)},
			lastSent: map[hub.CooldownKey]time.Time{cu("backup_failed"): epoch.Add(-90 * time.Minute)},
			want:     want{"queued", "queued"}},
		{name: "cooldown 0 never holds back", eventType: "backup_failed", severity: "error",
			prefs:    &hub.NotificationPrefs{Email: "anna@example.hu", EnabledEvents: []string{"backup_failed"}, CooldownHours: intPtr(0)},
			lastSent: map[hub.CooldownKey]time.Time{cu("backup_failed"): epoch},
			want:     want{"queued", "queued"}},
		{name: "last sent in the future counts as cooling down", eventType: "backup_failed", severity: "error",
			lastSent: map[hub.CooldownKey]time.Time{op("backup_failed"): epoch.Add(time.Minute)},
			want:     want{hub.SkipCooldown, "queued"}},
		{name: "unknown customer is not blocked", eventType: "backup_failed", severity: "error", customer: &hub.Customer{},
			want: want{"queued", "queued"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy
			if tt.policy != nil {
				tt.policy(&p)
			}
			st := &hub.NotificationState{Now: epoch, Customer: active, Prefs: prefs, LastSent: tt.lastSent}
			if tt.customer != nil {
				st.Customer = tt.customer
			}
			if tt.prefs != nil {
				st.Prefs = tt.prefs
			}
			if tt.noPrefs {
				st.Prefs = nil
			}
			got := p.Decide(tt.eventType, tt.severity, st)
			if len(got) != 2 || got[0].Channel != hub.ChannelOperator || got[1].Channel != hub.ChannelCustomer {
				t.Fatalf("decisions %+v", got)
			}
			for i, w := range []string{tt.want.operator, tt.want.customer} {
				d := got[i]
				outcome := d.Status
				if d.Status == hub.NotificationSkipped {
					outcome = d.Reason
				}
				if outcome != w {
					t.Errorf("%s: got %s, want %s", d.Channel, outcome, w)
				}
				if d.Status == hub.NotificationQueued {
					if d.Cooldown != (hub.CooldownKey{Channel: d.Channel, Key: tt.eventType}) {
						t.Errorf("%s: cooldown %+v", d.Channel, d.Cooldown)
					}
					if d.Recipient == "" {
						t.Errorf("%s: queued without a recipient", d.Channel)
					}
				}
			}
		})
	}
}

func TestPolicyDecideRelay(t *testing.T) {
	policy := notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour}
	key := hub.CooldownKey{Channel: hub.ChannelOperator, Key: "relay:Backup failed"}
	tests := []struct {
		name     string
		customer *hub.Customer
		lastSent map[hub.CooldownKey]time.Time
		want     string
	}{
		{"sent", &hub.Customer{ID: "a"}, nil, hub.NotificationQueued},
		{"same subject within the hour", &hub.Customer{ID: "a"}, map[hub.CooldownKey]time.Time{key: epoch.Add(-time.Minute)}, hub.SkipCooldown},
		{"other subject", &hub.Customer{ID: "a"}, map[hub.CooldownKey]time.Time{{Channel: hub.ChannelOperator, Key: "relay:x"}: epoch}, hub.NotificationQueued},
		{"blocked", &hub.Customer{ID: "a", Blocked: true}, nil, hub.SkipBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policy.DecideRelay("Backup failed", &hub.NotificationState{Now: epoch, Customer: tt.customer, LastSent: tt.lastSent})
			got := d.Status
			if got == hub.NotificationSkipped {
				got = d.Reason
			}
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	base, limit := 30*time.Second, 30*time.Minute
	tests := []struct {
		attempt int
		hint    time.Duration
		jitter  float64
		want    time.Duration
	}{
		{1, 0, 0, 15 * time.Second},
		{1, 0, 0.999999, 30 * time.Second},
		{2, 0, 0.5, 45 * time.Second},
		{3, 0, 0, time.Minute},
		{7, 0, 1, 30 * time.Minute},  // 32m capped at 30m
		{50, 0, 0, 15 * time.Minute}, // no overflow
		{1, 2 * time.Minute, 0, 2 * time.Minute},
		{1, 3 * time.Hour, 0, 30 * time.Minute}, // the hint is capped too
	}
	for _, tt := range tests {
		got := notify.Backoff(tt.attempt, base, limit, tt.hint, tt.jitter)
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("Backoff(%d, hint %s, jitter %v) = %s, want %s", tt.attempt, tt.hint, tt.jitter, got, tt.want)
		}
	}
}

func TestChooseProvider(t *testing.T) {
	tests := []struct{ configured, key, host, want string }{
		{"", "", "", "log"},
		{"", "re_123", "", "resend"},
		{"", "", "smtp.example.hu", "smtp"},
		{"", "re_123", "smtp.example.hu", "resend"},
		{"smtp", "re_123", "smtp.example.hu", "smtp"},
		{"log", "re_123", "", "log"},
	}
	for _, tt := range tests {
		if got := notify.ChooseProvider(tt.configured, tt.key, tt.host); got != tt.want {
			t.Errorf("ChooseProvider(%q, %q, %q) = %q, want %q", tt.configured, tt.key, tt.host, got, tt.want)
		}
	}
}
