package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestCustomerStatus(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	report := func(age time.Duration, health string, monitoring bool) *hub.ReportSummary {
		return &hub.ReportSummary{ReceivedAt: now.Add(-age), Health: health, MonitoringEnabled: monitoring}
	}
	tests := []struct {
		name string
		c    hub.Customer
		want hub.Status
	}{
		{"blocked beats everything", hub.Customer{Blocked: true, Latest: report(2*time.Hour, "fail", false)}, hub.StatusBlocked},
		{"blocked without report", hub.Customer{Blocked: true, Managed: true}, hub.StatusBlocked},
		{"managed, no report yet", hub.Customer{Managed: true}, hub.StatusPending},
		{"monitoring disabled by controller", hub.Customer{Latest: report(2*time.Hour, "fail", false)}, hub.StatusDisabled},
		{"monitoring paused in config", hub.Customer{MonitoringPaused: true, Latest: report(time.Minute, "ok", true)}, hub.StatusDisabled},
		{"older than down threshold", hub.Customer{Latest: report(61*time.Minute, "ok", true)}, hub.StatusDown},
		{"health fail while fresh", hub.Customer{Latest: report(time.Minute, "fail", true)}, hub.StatusDown},
		{"older than stale threshold", hub.Customer{Latest: report(31*time.Minute, "ok", true)}, hub.StatusWarn},
		{"exactly at stale threshold is still ok", hub.Customer{Latest: report(30*time.Minute, "ok", true)}, hub.StatusOK},
		{"exactly at down threshold is warn", hub.Customer{Latest: report(60*time.Minute, "ok", true)}, hub.StatusWarn},
		{"health warn while fresh", hub.Customer{Latest: report(time.Minute, "warn", true)}, hub.StatusWarn},
		{"stale and health fail is down", hub.Customer{Latest: report(40*time.Minute, "fail", true)}, hub.StatusDown},
		{"fresh and ok", hub.Customer{Latest: report(time.Minute, "ok", true)}, hub.StatusOK},
		{"no health reported counts as ok", hub.Customer{Latest: report(time.Minute, "", true)}, hub.StatusOK},
		{"per-customer stale override", hub.Customer{Thresholds: hub.Thresholds{Stale: 10 * time.Minute}, Latest: report(11*time.Minute, "ok", true)}, hub.StatusWarn},
		{"per-customer down override", hub.Customer{Thresholds: hub.Thresholds{Stale: 2 * time.Hour, Down: 3 * time.Hour}, Latest: report(90*time.Minute, "ok", true)}, hub.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Status(now, hub.DefaultThresholds); got != tt.want {
				t.Errorf("Status() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValidateCustomerID(t *testing.T) {
	for _, id := range []string{"ab", "kovacs-csalad", "a1-b2", "0123456789012345678901234567890123456789"} {
		if err := hub.ValidateCustomerID(id); err != nil {
			t.Errorf("ValidateCustomerID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "a", "Kovacs", "kovács", "a_b", "a b", "../etc", "01234567890123456789012345678901234567890"} {
		err := hub.ValidateCustomerID(id)
		if hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("ValidateCustomerID(%q) = %v, want EINVALID", id, err)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	good := map[string]time.Duration{
		"": 24 * time.Hour, "1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour,
		"90d": 90 * 24 * time.Hour, "2160h": 90 * 24 * time.Hour,
	}
	for in, want := range good {
		got, err := hub.ParsePeriod(in)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0h", "91d", "2161h", "30m", "1w", "-1d", "+1d", "d", "1.5h", "7 d", "999999999d", "abc"} {
		if _, err := hub.ParsePeriod(in); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("ParsePeriod(%q) error = %v, want EINVALID", in, err)
		}
	}
}
