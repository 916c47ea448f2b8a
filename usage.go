package hub

// The usage thresholds of disks, as the controller raises its own
// disk_space check: warning at 90 %, critical at 95 %. The dashboard colours
// CPU, memory and disk by them, so that a colour never disagrees with what
// the node itself reports.
const (
	UsageWarnPercent = 90.0
	UsageCritPercent = 95.0
)

// Usage levels, for colouring a percentage.
const (
	UsageNormal   = ""
	UsageWarning  = "warn"
	UsageCritical = "crit"
)

// UsageLevel classes a usage percentage: UsageNormal, UsageWarning or
// UsageCritical.
func UsageLevel(percent float64) string {
	switch {
	case percent >= UsageCritPercent:
		return UsageCritical
	case percent >= UsageWarnPercent:
		return UsageWarning
	}
	return UsageNormal
}
