package config

import (
	"net/mail"
	"time"
)

// validateFollowUps checks the reminders and the escalation of an
// unacknowledged DOWN (alerting.reminder_interval, alerting.escalate_after,
// notifications.escalation_email).
func (c *Config) validateFollowUps() error {
	if r := c.Alerting.ReminderInterval.D(); r != 0 && (r < 5*time.Minute || r > 7*24*time.Hour) {
		return bad("alerting.reminder_interval", "must be 0 (no reminders) or between 5m and 168h")
	}
	if e := c.Alerting.EscalateAfter.D(); e < time.Minute || e > 7*24*time.Hour {
		return bad("alerting.escalate_after", "must be between 1m and 168h")
	}
	if addr := c.Notifications.EscalationEmail; addr != "" {
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
			return bad("notifications.escalation_email", "must be one plain email address such as oncall@example.hu")
		}
	}
	return nil
}
