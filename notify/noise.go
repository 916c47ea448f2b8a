package notify

import (
	"time"

	hub "github.com/felhom/hub"
)

// NoisePolicy is alert noise control (alerting.flap_threshold,
// notifications.customer_digest_window). The zero value holds nothing
// back; fleet incidents and host inhibition need no setting here, since
// the state tells them (hub.NoiseState).
type NoisePolicy struct {
	// FlapThreshold is the number of stale/recovered transitions in
	// hub.FlapPeriod that make a node or host flap; 0 turns it off.
	FlapThreshold int
	// DigestWindow is how long a customer mail waits for others to go out
	// with it as one digest; 0 sends every customer mail at once.
	DigestWindow time.Duration
}

// operatorOnly re-decides an event of a noise-control type
// (node_flapping, fleet_incident, fleet_incident_resolved): it goes to the
// operator whatever its severity and with no cooldown, since the hub raises
// each once (the staleness checker holds a lease, and their dedupe keys are
// unique). Customers never get them. Silences apply after it.
func (p Policy) operatorOnly(eventType string, ds []Decision, st *hub.NotificationState) []Decision {
	q := p
	q.OperatorCooldown = 0
	for i, d := range ds {
		switch d.Channel {
		case hub.ChannelOperator:
			ds[i] = q.decideOperator(eventType, true, st)
		case hub.ChannelCustomer:
			if d.Status == hub.NotificationQueued {
				ds[i] = skipped(d.Channel, d.Recipient, hub.SkipNotEnabled)
			}
		}
	}
	return ds
}

// noise applies noise control to the channel decisions about an event of
// eventType (operator first, customer second) after silences and
// acknowledgements, so that a silenced mail is never folded into a digest.
// It is pure.
//
//   - A mail that would go out is skipped, in this order: incident (the
//     node is in a fleet incident), flapping (its transitions are summed
//     up by node_flapping), inhibited (its Proxmox host is stale or down;
//     the host's mail speaks for the controller). Recoveries are never
//     inhibited.
//   - A customer mail that still goes out waits DigestWindow for others, or
//     is folded into the customer's digest already waiting (digested; it
//     starts its cooldown as if sent).
//
// A decision skipped for another reason (cooldown, blocked, silenced…)
// keeps it.
func (p Policy) noise(eventType string, ds []Decision, st *hub.NotificationState) []Decision {
	reason := p.noiseReason(eventType, &st.Noise)
	for i, d := range ds {
		if d.Status != hub.NotificationQueued {
			continue
		}
		switch {
		case reason != "":
			ds[i] = skipped(d.Channel, d.Recipient, reason)
		case d.Channel == hub.ChannelCustomer && p.Noise.DigestWindow > 0 && st.Noise.Digest != nil:
			digested := skipped(d.Channel, d.Recipient, hub.SkipDigested)
			digested.Cooldown = d.Cooldown
			ds[i] = digested
		case d.Channel == hub.ChannelCustomer && p.Noise.DigestWindow > 0:
			ds[i].Hold = p.Noise.DigestWindow
		}
	}
	return ds
}

// noiseReason is why noise control holds back every mail about an event
// of type t; "" when it does not.
func (p Policy) noiseReason(t string, n *hub.NoiseState) string {
	nodeWatch := t == hub.EventNodeStale || t == hub.EventNodeDown
	switch {
	case n.Incident != 0 && (nodeWatch || t == hub.EventNodeRecovered):
		return hub.SkipIncident
	case hub.FlapTransitionType(t) && (n.Flapping || (p.Noise.FlapThreshold > 0 && n.Transitions >= p.Noise.FlapThreshold)):
		return hub.SkipFlapping
	case nodeWatch && n.HostDown != "":
		return hub.SkipInhibited
	}
	return ""
}
