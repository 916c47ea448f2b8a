package web

import (
	"fmt"

	hub "github.com/felhom/hub"
	"math"
	"strconv"
	"strings"
	"time"
)

// ago says how long before now t was, the way a person would: "just now",
// "3 min ago", "5 h ago", "12 d ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d ago", int(d/(24*time.Hour)))
}

// formatTime shows a time in the dashboard's zone.
func formatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// humanBytes shows a byte count in binary units: "912.7 GiB".
func humanBytes(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	i := -1
	for b >= unit && i < len(units)-1 {
		b /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// formatPercent shows a percentage with one decimal: "91.2%".
func formatPercent(p float64) string {
	return strconv.FormatFloat(math.Round(p*10)/10, 'f', 1, 64) + "%"
}

// formatUptime shows an uptime in days and hours: "14 d 3 h".
func formatUptime(seconds float64) string {
	d := time.Duration(seconds) * time.Second
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	switch {
	case days > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case hours > 0:
		return fmt.Sprintf("%d h %d min", hours, int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}

// usageLevel classes a usage percentage for colouring: "", "warn", "crit",
// at the controller's own thresholds (hub.UsageLevel).
func usageLevel(p float64) string { return hub.UsageLevel(p) }

// formatThreshold shows a duration the way the config form takes it: "45m",
// "2h", "1h30m".
func formatThreshold(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%time.Minute != 0:
		return d.String()
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// formatFloat shows a number with two decimals: "0.42".
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// wordClass sorts a status word a controller sent ("ok", "failed", ...)
// into one of the hub's own classes, so that controller text never becomes
// a class name: "good", "warn", "bad" or "other".
func wordClass(word string) string {
	switch strings.ToLower(word) {
	case "ok", "success", "succeeded", "healthy", "running", "sent", "connected":
		return "good"
	case "warn", "warning", "degraded":
		return "warn"
	case "fail", "failed", "failure", "error", "critical", "unhealthy", "stopped", "disconnected", "down":
		return "bad"
	}
	return "other"
}
