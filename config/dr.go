package config

import "time"

// DR configures the disaster-recovery readiness checks (SPEC §7.3).
type DR struct {
	// MaxBundleAge is how old the latest recovery bundle may be before the
	// customer is at risk.
	MaxBundleAge Duration `yaml:"max_bundle_age"`
	// MaxRestoreTestAge is how old the last successful restore test may
	// be, for nodes whose reports carry restore tests.
	MaxRestoreTestAge Duration `yaml:"max_restore_test_age"`
	// CheckSchedule is when every customer is checked each day (HH:MM,
	// Europe/Budapest); bundles and reports trigger checks in between.
	CheckSchedule string `yaml:"check_schedule"`
}

// defaultDR is the DR section of Default.
func defaultDR() DR {
	return DR{
		MaxBundleAge:      Duration(48 * time.Hour),
		MaxRestoreTestAge: Duration(35 * 24 * time.Hour),
		CheckSchedule:     "06:00",
	}
}

// validateDR checks the DR section.
func (c *Config) validateDR() error {
	d := c.DR
	switch {
	case d.MaxBundleAge.D() < time.Hour:
		return bad("dr.max_bundle_age", "must be at least 1h")
	case d.MaxBundleAge.D() > 90*24*time.Hour:
		return bad("dr.max_bundle_age", "must be at most 2160h (90 days)")
	case d.MaxRestoreTestAge.D() < 24*time.Hour:
		return bad("dr.max_restore_test_age", "must be at least 24h")
	case d.MaxRestoreTestAge.D() > 366*24*time.Hour:
		return bad("dr.max_restore_test_age", "must be at most 8784h (366 days)")
	}
	if _, err := ParseClock(d.CheckSchedule); err != nil {
		return bad("dr.check_schedule", "must be a time of day such as 06:00")
	}
	return nil
}
