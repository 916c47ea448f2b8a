package config

import (
	"math"
	"time"
)

// Limits of the noise control settings.
const (
	maxFlapThreshold   = 100
	maxIncidentWindow  = 2 * time.Hour
	maxCustomerDigest  = time.Hour
	minNoiseWindowStep = time.Minute
)

// validateNoise checks alert noise control: alerting.flap_threshold (0
// turns flapping off), alerting.incident_fraction and incident_window (a
// fraction of 0 turns incidents off), notifications.customer_digest_window
// (0 sends every customer mail at once).
func (c *Config) validateNoise() error {
	a := &c.Alerting
	if a.FlapThreshold < 0 || a.FlapThreshold > maxFlapThreshold {
		return bad("alerting.flap_threshold", "must be between 0 (off) and %d", maxFlapThreshold)
	}
	if a.FlapThreshold == 1 {
		return bad("alerting.flap_threshold", "must be 0 (off) or at least 2: one transition is not flapping")
	}
	if f := a.IncidentFraction; math.IsNaN(f) || f < 0 || f > 1 {
		return bad("alerting.incident_fraction", "must be between 0 (off) and 1")
	}
	if w := a.IncidentWindow.D(); w < minNoiseWindowStep || w > maxIncidentWindow {
		return bad("alerting.incident_window", "must be between 1m and 2h")
	}
	if w := c.Notifications.CustomerDigestWindow.D(); w != 0 && (w < minNoiseWindowStep || w > maxCustomerDigest) {
		return bad("notifications.customer_digest_window", "must be 0 (off) or between 1m and 1h")
	}
	return nil
}
