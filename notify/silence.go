package notify

import (
	"slices"

	hub "github.com/felhom/hub"
)

// problemTypes are the event types that open or worsen a node's or host's
// problem: an acknowledgement stops their operator mails.
var problemTypes = []string{hub.EventNodeStale, hub.EventNodeDown, hub.EventHostStale, hub.EventHostDown}

// recoveryTypes end a problem.
var recoveryTypes = []string{hub.EventNodeRecovered, hub.EventHostRecovered}

// silence applies silences, acknowledgements and the operator-only types to
// the decisions Decide made about an event of eventType. It is pure.
//
//   - An alert follow-up (still down after a silence, reminder,
//     escalation) goes to the operator (escalations to the escalation
//     address) without a cooldown of its own: the follow-up pass spaces
//     them. A customer never gets one.
//   - A mail that would go out is skipped as silenced when a silence
//     active now covers the event's subject, and so is the recovery of a
//     problem whose alert a silence muted, whenever it comes: nobody was
//     told of the problem, so nobody is told it is over.
//   - Otherwise an operator mail about an acknowledged problem (it got
//     worse, or a follow-up) is skipped as acknowledged; the customer's
//     mails are theirs and go out.
func (p Policy) silence(eventType string, st *hub.NotificationState, decs []Decision) []Decision {
	if hub.AlertFollowUpType(eventType) {
		decs = p.decideFollowUp(eventType, st, decs)
	}
	a := st.Alerting
	if a == nil {
		return decs
	}
	if id := silencedBy(eventType, a, st); id != 0 {
		for i := range decs {
			if decs[i].Status == hub.NotificationQueued {
				decs[i] = skipped(decs[i].Channel, decs[i].Recipient, hub.SkipSilenced)
				decs[i].SilenceID = id
			}
		}
		return decs
	}
	if a.Problem.Acked() && (slices.Contains(problemTypes, eventType) || hub.OperatorOnlyEventType(eventType)) {
		for i := range decs {
			if decs[i].Channel == hub.ChannelOperator && decs[i].Status == hub.NotificationQueued {
				decs[i] = skipped(decs[i].Channel, decs[i].Recipient, hub.SkipAcknowledged)
			}
		}
	}
	return decs
}

// silencedBy returns the silence that mutes an event of eventType: the one
// that muted the problem a recovery ends, or the lowest-numbered silence
// active now that covers the subject; 0 for none.
func silencedBy(eventType string, a *hub.AlertingState, st *hub.NotificationState) int64 {
	if slices.Contains(recoveryTypes, eventType) && a.Problem != nil && a.Problem.MutedBy != 0 {
		return a.Problem.MutedBy
	}
	if s := hub.MatchSilence(a.Silences, a.Subject, st.Now); s != nil {
		return s.ID
	}
	return 0
}

// decideFollowUp replaces the decisions about an alert follow-up: the
// operator channel's switch, the customer's block and the address apply,
// the severity and the cooldown do not; the customer channel never takes it.
func (p Policy) decideFollowUp(eventType string, st *hub.NotificationState, decs []Decision) []Decision {
	out := make([]Decision, 0, len(decs))
	for _, d := range decs {
		if d.Channel == hub.ChannelCustomer {
			out = append(out, skipped(d.Channel, d.Recipient, hub.SkipNotEnabled))
			continue
		}
		const ch = hub.ChannelOperator
		to := p.OperatorEmail
		if eventType == hub.EventAlertEscalation {
			to = p.EscalationEmail
		}
		switch {
		case !p.OperatorEnabled:
			out = append(out, skipped(ch, to, hub.SkipDisabled))
		case blocked(st):
			out = append(out, skipped(ch, to, hub.SkipBlocked))
		case to == "":
			out = append(out, skipped(ch, "", hub.SkipNoAddress))
		default:
			out = append(out, queued(ch, to, hub.CooldownKey{Channel: ch, Key: eventType}))
		}
	}
	return out
}
