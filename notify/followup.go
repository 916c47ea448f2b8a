package notify

import (
	"encoding/json"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// FollowUpPolicy is when the hub follows an open problem up, apart from
// the cooldown of its alerts (alerting.reminder_interval,
// alerting.escalate_after, notifications.escalation_email).
type FollowUpPolicy struct {
	// ReminderInterval is the time between reminders of an unacknowledged
	// DOWN; 0 sends none.
	ReminderInterval time.Duration
	// EscalateAfter is how long an unacknowledged DOWN lasts before it is
	// escalated, once; escalations go out only when Escalate is set (an
	// escalation address is configured).
	EscalateAfter time.Duration
	Escalate      bool
}

// FollowUps decides, at now, what follows up each open problem. silences
// holds, by id, the silences that muted problems (MutedBy); active are the
// silences active now. It is pure.
//
//   - A problem whose alert a silence muted waits while that silence (or
//     its maintenance window) lasts. When it is over and the problem is
//     still open, the operator gets one still_down_after_silence, unless
//     the problem was acknowledged meanwhile. A problem that recovered in
//     the silence has no record left, so nobody hears of it.
//   - An unacknowledged DOWN that no active silence covers is reminded
//     every ReminderInterval and escalated once after EscalateAfter,
//     counted from when it went down, or from the follow-up when a silence
//     hid it until then.
//   - Blocked and paused customers get no follow-ups.
func (f FollowUpPolicy) FollowUps(now time.Time, problems []*hub.OpenProblem, silences map[int64]*hub.Silence, active []*hub.Silence) []hub.AlertAction {
	var out []hub.AlertAction
	for _, p := range problems {
		if p.Muted {
			continue
		}
		if a, ok := f.followUp(now, p, silences, active); ok {
			out = append(out, a)
		}
	}
	return out
}

func (f FollowUpPolicy) followUp(now time.Time, p *hub.OpenProblem, silences map[int64]*hub.Silence, active []*hub.Silence) (hub.AlertAction, bool) {
	a := hub.AlertAction{Problem: *p, Update: *p}
	if p.MutedBy != 0 && p.FollowedUpAt.IsZero() {
		s := silences[p.MutedBy]
		if s != nil && s.ActiveAt(now) {
			return a, false
		}
		a.Update.FollowedUpAt = now
		if !p.Acked() {
			a.Events = append(a.Events, followUpEvent(hub.EventStillDownAfterSilence, p, now, s, 0))
		}
		return a, true
	}
	if p.State != hub.StateDown || p.Acked() || hub.MatchSilence(active, p.Subject(), now) != nil {
		return a, !p.Stored // a record to start counting from, nothing to send
	}
	base := p.Since
	if p.FollowedUpAt.After(base) {
		base = p.FollowedUpAt
	}
	down := now.Sub(base)
	if f.Escalate && f.EscalateAfter > 0 && p.EscalatedAt.IsZero() && down >= f.EscalateAfter {
		a.Update.EscalatedAt = now
		a.Events = append(a.Events, followUpEvent(hub.EventAlertEscalation, p, now, nil, 0))
	}
	if f.ReminderInterval > 0 {
		// After an outage of the hub, one reminder, not all it missed.
		if n := int(down / f.ReminderInterval); n > p.Reminders {
			a.Update.Reminders = n
			a.Events = append(a.Events, followUpEvent(hub.EventAlertReminder, p, now, nil, n))
		}
	}
	return a, len(a.Events) > 0 || !p.Stored
}

// followUpEvent builds the hub event of a follow-up. Its dedupe key names
// the outage (and the silence or the reminder's number), so that it is
// stored once however often it is decided.
func followUpEvent(typ string, p *hub.OpenProblem, now time.Time, s *hub.Silence, n int) *hub.Event {
	what := fmt.Sprintf("%s %s", p.Kind, p.Name)
	since := now.Sub(p.Since)
	details := map[string]any{
		"kind":           string(p.Kind),
		"watch_id":       p.WatchID,
		"problem_type":   p.ProblemType(),
		"state":          string(p.State),
		"episode":        p.Episode.UnixMilli(),
		"last_report_at": p.Episode.UTC().Format(time.RFC3339),
		"since":          p.Since.UTC().Format(time.RFC3339),
		"down_for":       hub.FormatDuration(since),
	}
	if p.Kind == hub.WatchHost {
		details["host_id"] = p.WatchID
	}
	e := &hub.Event{CustomerID: p.CustomerID, Type: typ, Severity: hub.SeverityError, Source: hub.SourceHub, OccurredAt: now}
	key := fmt.Sprintf("%s:%s:%s:%d", typ, p.Kind, p.WatchID, p.Episode.UnixMilli())
	switch typ {
	case hub.EventStillDownAfterSilence:
		if p.State == hub.StateStale {
			e.Severity = hub.SeverityWarning
		}
		details["silence_id"] = p.MutedBy
		reason := ""
		if s != nil {
			reason = s.Reason
			details["silence_reason"] = s.Reason
		}
		e.Message = fmt.Sprintf("%s is still %s after silence #%d ended (%s); no report since %s",
			what, p.State, p.MutedBy, reason, p.Episode.UTC().Format(time.RFC3339))
		key += fmt.Sprintf(":%d", p.MutedBy)
	case hub.EventAlertReminder:
		details["reminder"] = n
		e.Message = fmt.Sprintf("reminder %d: %s has been %s for %s and nobody acknowledged it", n, what, p.State, hub.FormatDuration(since))
		key += fmt.Sprintf(":%d", n)
	case hub.EventAlertEscalation:
		e.Message = fmt.Sprintf("escalation: %s has been %s for %s and nobody acknowledged it", what, p.State, hub.FormatDuration(since))
	}
	e.Details, _ = json.Marshal(details) // strings and numbers always encode
	e.DedupeKey = key
	return e
}
