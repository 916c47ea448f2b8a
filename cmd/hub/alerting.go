package main

import "github.com/felhom/hub/notify"

// newAlerter builds the alert follow-ups (the one mail when a silence ends
// on a problem still open, reminders, escalation) before anything serves,
// so that ending a silence can wake it; openBackground starts it. It runs
// under the dispatch lease: its decisions are notification decisions,
// made once.
func (m *Main) newAlerter() {
	cfg := m.Config
	m.alerter = &notify.Alerter{
		Store: m.DB,
		Policy: notify.FollowUpPolicy{
			ReminderInterval: cfg.Alerting.ReminderInterval.D(),
			EscalateAfter:    cfg.Alerting.EscalateAfter.D(),
			Escalate:         cfg.Notifications.EscalationEmail != "",
		},
		Lease:    m.leases[leaseDispatch],
		Interval: cfg.Alerting.CheckInterval.D(),
		Now:      m.Now,
		Logger:   m.Logger.With("component", "alerting"),
	}
}

// wakeAlerter runs a follow-up pass at once: a silence was ended.
func (m *Main) wakeAlerter() {
	if m.alerter != nil {
		m.alerter.Wake()
	}
}
