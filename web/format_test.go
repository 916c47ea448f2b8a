package web

import (
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		-time.Minute: "in the future", 0: "just now", 59 * time.Second: "just now", 3 * time.Minute: "3 min ago",
		59 * time.Minute: "59 min ago", 5 * time.Hour: "5 h ago", 47 * time.Hour: "47 h ago", 12 * 24 * time.Hour: "12 d ago",
	} {
		if got := ago(now, now.Add(-d)); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for b, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 8589934592: "8.0 GiB", 2000398934016: "1.8 TiB"} {
		if got := humanBytes(b); got != want {
			t.Errorf("humanBytes(%v) = %q, want %q", b, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "", 45 * time.Minute: "45m", 2 * time.Hour: "2h",
		90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 720 * time.Hour: "720h"} {
		if got := formatThreshold(d); got != want {
			t.Errorf("formatThreshold(%v) = %q, want %q", d, got, want)
		}
		if d >= time.Minute {
			if back, msg := parseFormThreshold(formatThreshold(d)); back != d || msg != "" {
				t.Errorf("round trip of %v: %v %q", d, back, msg)
			}
		}
	}
	for secs, want := range map[float64]string{1209600: "14 d 0 h", 5400: "1 h 30 min", 120: "2 min"} {
		if got := formatUptime(secs); got != want {
			t.Errorf("formatUptime(%v) = %q, want %q", secs, got, want)
		}
	}
	if formatPercent(91.25) != "91.3%" || formatPercent(0) != "0.0%" {
		t.Error("formatPercent")
	}
}

func TestBuildChart(t *testing.T) {
	to := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	from := to.Add(-24 * time.Hour)
	var points []hub.MetricPoint
	add := func(at time.Time, cpu float64) {
		points = append(points, hub.MetricPoint{Time: at, Samples: 1, CPUAvg: cpu, MemAvg: 50, DiskAvg: 150})
	}
	for i := range 8 { // two hours of reports
		add(from.Add(time.Duration(i)*15*time.Minute), 10)
	}
	add(from.Add(10*time.Hour), 20) // a lone report after a long silence
	add(to.Add(time.Hour), 99)      // outside the period
	c := buildChart(points, from, to, time.UTC)
	if c.Reports != len(points)-1 || len(c.Series) != 3 { // the one outside does not count
		t.Fatalf("chart: %+v", c)
	}
	cpu := c.Series[0]
	if len(cpu.Lines) != 2 {
		t.Fatalf("cpu lines = %d, want 2: %v", len(cpu.Lines), cpu.Lines)
	}
	if n := len(strings.Fields(cpu.Lines[0])); n != 8 {
		t.Errorf("first line has %d points, want 8", n)
	}
	if f := strings.Fields(cpu.Lines[1]); len(f) != 2 || f[0] != f[1] {
		t.Errorf("the lone point is not a dot: %q", cpu.Lines[1])
	}
	if cpu.Latest != "20.0%" {
		t.Errorf("latest = %q", cpu.Latest)
	}
	// Values are clamped into the plot: disk reported 150 % sits at the top.
	for _, pt := range strings.Fields(c.Series[2].Lines[0]) {
		if !strings.HasSuffix(pt, ","+coord(chartTop)) {
			t.Errorf("disk point %s not clamped to the top", pt)
		}
	}
	if len(c.XTicks) != 3 || c.XTicks[0].Label != "18:00" {
		t.Errorf("24 h ticks: %+v", c.XTicks)
	}
	// Rolled-up points weigh by the reports they stand for, and one that
	// starts before the period counts at its start.
	hourly := buildChart([]hub.MetricPoint{
		{Time: from.Add(-30 * time.Minute), Samples: 1, CPUAvg: 90},
		{Time: from.Add(5 * time.Minute), Samples: 3, CPUAvg: 10},
	}, from, to, time.UTC)
	if hourly.Reports != 4 || hourly.Series[0].Latest != "30.0%" {
		t.Errorf("weighted chart: %d reports, latest %q; want 4 and 30.0%%", hourly.Reports, hourly.Series[0].Latest)
	}
	week := buildChart(nil, to.Add(-7*24*time.Hour), to, time.UTC)
	if len(week.XTicks) != 7 || week.XTicks[0].Label != "Nov 16" || week.Series[0].Lines != nil {
		t.Errorf("7 d: %+v", week.XTicks)
	}
	if month := buildChart(nil, to.Add(-30*24*time.Hour), to, time.UTC); len(month.XTicks) != 6 {
		t.Errorf("30 d ticks: %+v", month.XTicks)
	}
}
