package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestCustomerReason(t *testing.T) {
	now := time.Date(2026, 11, 22, 11, 26, 0, 0, time.UTC)
	latest := func(age time.Duration, health string, checks ...hub.CheckProblem) *hub.ReportSummary {
		return &hub.ReportSummary{ReceivedAt: now.Add(-age), Health: health, MonitoringEnabled: true, CheckProblems: checks}
	}
	for _, tt := range []struct {
		name string
		c    hub.Customer
		code hub.ReasonCode
		want string
	}{
		{"ok", hub.Customer{Latest: latest(time.Minute, "ok")}, hub.ReasonNone, ""},
		{"silent down", hub.Customer{Latest: latest(2*time.Hour+14*time.Minute, "ok")}, hub.ReasonSilent,
			"DOWN 2 h 14 m — silent since 09:12"},
		{"silent stale", hub.Customer{Latest: latest(42*time.Minute, "ok")}, hub.ReasonSilent,
			"WARN 42 m — silent since 10:44"},
		{"silent for days", hub.Customer{Latest: latest(50*time.Hour, "ok")}, hub.ReasonSilent,
			"DOWN 2 d 2 h — silent since 2026-11-20 09:26"},
		{"health fail", hub.Customer{Latest: latest(time.Minute, "fail", hub.CheckProblem{Name: "disk_space", Status: "fail", Note: "97 %"})},
			hub.ReasonHealthFail, "DOWN — health fail: disk_space (97 %)"},
		{"health fail, no check named", hub.Customer{Latest: latest(time.Minute, "fail")}, hub.ReasonHealthFail, "DOWN — health fail"},
		{"two warn", hub.Customer{Latest: latest(time.Minute, "warn", hub.CheckProblem{Name: "disk_space", Status: "warn"},
			hub.CheckProblem{Name: "containers", Status: "warn"})}, hub.ReasonHealthWarn, "WARN — 2 checks warn: disk_space, containers"},
		{"one warn", hub.Customer{Latest: latest(time.Minute, "warn", hub.CheckProblem{Name: "backup", Status: "warn"})},
			hub.ReasonHealthWarn, "WARN — 1 check warns: backup"},
		{"host down", hub.Customer{Latest: latest(time.Minute, "ok"), HostsDown: 1}, hub.ReasonHostDown, "host down"},
		{"down and hosts down", hub.Customer{Latest: latest(3*time.Hour, "ok"), HostsDown: 2}, hub.ReasonSilent,
			"DOWN 3 h — silent since 08:26; 2 hosts down"},
		{"pending", hub.Customer{Managed: true}, hub.ReasonPending, "PENDING — waiting for the first report"},
		{"blocked", hub.Customer{Blocked: true, Latest: latest(time.Minute, "ok")}, hub.ReasonBlocked,
			"BLOCKED — by the operator; reports are stored, nothing is notified"},
		{"paused", hub.Customer{MonitoringPaused: true, Latest: latest(time.Minute, "ok")}, hub.ReasonPaused,
			"DISABLED — monitoring paused by the operator"},
		{"off on node", hub.Customer{Latest: &hub.ReportSummary{ReceivedAt: now}}, hub.ReasonMonitoringOff,
			"DISABLED — monitoring is off on the node"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.Reason(now, hub.DefaultThresholds, time.UTC)
			if r.Code != tt.code || r.Text != tt.want {
				t.Errorf("Reason() = %q %q, want %q %q", r.Code, r.Text, tt.code, tt.want)
			}
			if r.Status != tt.c.Status(now, hub.DefaultThresholds) {
				t.Errorf("reason status %s, status %s", r.Status, tt.c.Status(now, hub.DefaultThresholds))
			}
		})
	}
}

func TestUsageLevel(t *testing.T) {
	for p, want := range map[float64]string{0: "", 89.9: "", 90: "warn", 94.9: "warn", 95: "crit", 100: "crit"} {
		if got := hub.UsageLevel(p); got != want {
			t.Errorf("UsageLevel(%v) = %q, want %q", p, got, want)
		}
	}
}

func TestBackupScheduleOverdue(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		t.Skip("no tzdata")
	}
	b := hub.BackupSchedule{Location: loc, At: 5 * time.Hour}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, loc) }
	p := func(t time.Time) *time.Time { return &t }
	for _, tt := range []struct {
		name string
		last *time.Time
		now  time.Time
		want bool
	}{
		{"never", nil, at(22, 12, 0), true},
		{"today", p(at(22, 2, 0)), at(22, 12, 0), false},
		{"yesterday, after today's check", p(at(21, 23, 0)), at(22, 5, 0), true},
		{"yesterday, before today's check", p(at(21, 2, 0)), at(22, 4, 59), false},
		{"two days ago, before today's check", p(at(20, 23, 0)), at(22, 4, 0), true},
	} {
		if got := b.Overdue(tt.last, tt.now); got != tt.want {
			t.Errorf("%s: Overdue = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := b.DayStart(at(22, 0, 30)); !got.Equal(at(22, 0, 0)) {
		t.Errorf("DayStart = %v", got)
	}
}
