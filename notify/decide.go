package notify

import (
	"time"

	hub "github.com/felhom/hub"
)

// RelayEventType is the event_type of a legacy relay in notification_log.
const RelayEventType = "notify"

// Policy is the hub's notification configuration (notifications.*).
type Policy struct {
	OperatorEnabled bool
	OperatorEmail   string
	// OperatorCooldown is the least time between two operator mails of one
	// customer:event_type.
	OperatorCooldown time.Duration
	CustomerEnabled  bool
	// DefaultCustomerCooldown applies when a customer set none.
	DefaultCustomerCooldown time.Duration
	// EscalationEmail gets the escalation of a long unacknowledged DOWN
	// (notifications.escalation_email); empty sends none.
	EscalationEmail string
	// Noise is alert noise control (noise.go).
	Noise NoisePolicy
}

// Decision is what one channel does with one event: queue a mail to
// Recipient, or skip it for Reason.
type Decision struct {
	Channel   string
	Recipient string
	Status    string // hub.NotificationQueued or hub.NotificationSkipped
	Reason    string
	// Cooldown is the cooldown a queued mail starts.
	Cooldown hub.CooldownKey
	// SilenceID is the silence of a decision skipped as silenced.
	SilenceID int64
	// Hold is how long a queued customer mail waits for others to fold
	// into a digest with it; 0 sends it at once.
	Hold time.Duration
}

func queued(channel, recipient string, cooldown hub.CooldownKey) Decision {
	return Decision{Channel: channel, Recipient: recipient, Status: hub.NotificationQueued, Cooldown: cooldown}
}

func skipped(channel, recipient, reason string) Decision {
	return Decision{Channel: channel, Recipient: recipient, Status: hub.NotificationSkipped, Reason: reason}
}

// Decide returns the operator and the customer decision about an event of
// eventType and severity, given the customer's state. It is pure.
func (p Policy) Decide(eventType, severity string, st *hub.NotificationState) []Decision {
	operatorKey := eventType
	if hub.EventTypeSource(eventType) == "" {
		// Types the hub does not know share one cooldown: a node posting
		// ever new type names must not flood the operator's mailbox.
		operatorKey = unknownTypesCooldown
	}
	decs := []Decision{
		p.decideOperator(operatorKey, severity != hub.SeverityInfo, st),
		p.decideCustomer(eventType, st),
	}
	if hub.OperatorOnlyEventType(eventType) && !hub.AlertFollowUpType(eventType) {
		decs = p.operatorOnly(eventType, decs, st)
	}
	decs = p.silence(eventType, st, decs)
	if hub.OperatorOnlyEventType(eventType) {
		return decs
	}
	return p.noise(eventType, decs, st)
}

// unknownTypesCooldown is the operator cooldown shared by a customer's
// events of unknown types.
const unknownTypesCooldown = "unknown-types"

// DecideRelay returns the decision about a legacy relayed message: the
// operator channel with a cooldown per subject, whatever its severity.
func (p Policy) DecideRelay(subject string, st *hub.NotificationState) Decision {
	return p.silence(RelayEventType, st, []Decision{p.decideOperator("relay:"+subject, true, st)})[0]
}

// decideOperator applies, in order: the channel switch, the customer's
// block, the severity (info never goes to the operator), the address, and
// the cooldown of key.
func (p Policy) decideOperator(key string, severe bool, st *hub.NotificationState) Decision {
	const ch = hub.ChannelOperator
	switch {
	case !p.OperatorEnabled:
		return skipped(ch, p.OperatorEmail, hub.SkipDisabled)
	case blocked(st):
		return skipped(ch, p.OperatorEmail, hub.SkipBlocked)
	case !severe:
		return skipped(ch, p.OperatorEmail, hub.SkipNotEnabled)
	case p.OperatorEmail == "":
		return skipped(ch, "", hub.SkipNoAddress)
	}
	cooldown := hub.CooldownKey{Channel: ch, Key: key}
	if coolingDown(st, cooldown, p.OperatorCooldown) {
		return skipped(ch, p.OperatorEmail, hub.SkipCooldown)
	}
	return queued(ch, p.OperatorEmail, cooldown)
}

// decideCustomer applies, in order: the channel switch, the customer's
// block, whether the type is known, the customer's enabled events, the address, and the customer's
// cooldown of the event type.
func (p Policy) decideCustomer(eventType string, st *hub.NotificationState) Decision {
	const ch = hub.ChannelCustomer
	prefs := st.Prefs
	email := ""
	if prefs != nil {
		email = prefs.Email
	}
	switch {
	case !p.CustomerEnabled:
		return skipped(ch, email, hub.SkipDisabled)
	case blocked(st):
		return skipped(ch, email, hub.SkipBlocked)
	case hub.EventTypeSource(eventType) == "":
		// A type the hub does not know goes to the operator only: it has no
		// Hungarian text a customer could understand (SPEC §2.4).
		return skipped(ch, email, hub.SkipNotEnabled)
	case hub.OperatorOnlyEventType(eventType):
		return skipped(ch, email, hub.SkipNotEnabled)
	case prefs == nil || !prefs.Enabled(eventType):
		return skipped(ch, email, hub.SkipNotEnabled)
	case email == "":
		return skipped(ch, "", hub.SkipNoAddress)
	}
	period := p.DefaultCustomerCooldown
	if prefs.CooldownHours != nil {
		period = time.Duration(*prefs.CooldownHours) * time.Hour
	}
	cooldown := hub.CooldownKey{Channel: ch, Key: eventType}
	if coolingDown(st, cooldown, period) {
		return skipped(ch, email, hub.SkipCooldown)
	}
	return queued(ch, email, cooldown)
}

func blocked(st *hub.NotificationState) bool {
	return st.Customer != nil && st.Customer.Blocked
}

// coolingDown reports whether a mail of key went out less than period ago.
// A last-sent time in the future (a clock stepped back) also counts.
func coolingDown(st *hub.NotificationState, key hub.CooldownKey, period time.Duration) bool {
	last, ok := st.LastSent[key]
	return ok && period > 0 && st.Now.Before(last.Add(period))
}
