package notify

import (
	"context"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.RecoveryNotifier = (*Dispatcher)(nil)

// RecoveryRetrievedType names the customer's notice of a recovery download
// in notification_log and in the cooldowns; it is not an event type.
const RecoveryRetrievedType = "recovery_retrieved"

// recoveryNoticeCooldown is the least time between two notices to one
// customer: a reinstall that retries its download must not flood them.
const recoveryNoticeCooldown = time.Hour

// NotifyRecoveryRetrieved queues the customer's Hungarian notice that
// their recovery data was downloaded at at, at most once an hour. It goes
// whatever the customer's enabled events (it is a security notice), but
// not to a blocked customer, nor with customer mail switched off.
func (d *Dispatcher) NotifyRecoveryRetrieved(ctx context.Context, customerID string, at time.Time) error {
	var planned []*hub.PlannedNotification
	_, err := d.Queue.EnqueueNotifications(ctx, customerID, 0, func(st *hub.NotificationState) ([]*hub.PlannedNotification, error) {
		dec := d.Policy.decideRecoveryNotice(st)
		p := &hub.PlannedNotification{Channel: dec.Channel, EventType: RecoveryRetrievedType,
			Recipient: dec.Recipient, Status: dec.Status, Reason: dec.Reason}
		if dec.Status == hub.NotificationQueued {
			data := d.mailData(customerID, st, nil)
			data.EventType, data.Severity, data.When = RecoveryRetrievedType, hub.SeverityWarning, at.In(d.Location)
			r, err := d.Templates.Render(Hungarian, RecoveryRetrievedType, data)
			if err != nil {
				return nil, err
			}
			key := fmt.Sprintf("felhom-hub/recovery-retrieved/%s/%d/%s", customerID, at.UnixMilli(), addressHash(dec.Recipient))
			p.Email = &hub.Email{IdempotencyKey: key, To: dec.Recipient, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
			cooldown := dec.Cooldown
			p.Cooldown = &cooldown
		}
		planned = []*hub.PlannedNotification{p}
		return planned, nil
	})
	if err != nil {
		return err
	}
	d.observe(planned)
	return nil
}

// decideRecoveryNotice applies, in order: the customer channel's switch,
// the customer's block, the address, and the notice's hourly cooldown.
func (p Policy) decideRecoveryNotice(st *hub.NotificationState) Decision {
	const ch = hub.ChannelCustomer
	email := ""
	if st.Prefs != nil {
		email = st.Prefs.Email
	}
	switch {
	case !p.CustomerEnabled:
		return skipped(ch, email, hub.SkipDisabled)
	case blocked(st):
		return skipped(ch, email, hub.SkipBlocked)
	case email == "":
		return skipped(ch, "", hub.SkipNoAddress)
	}
	cooldown := hub.CooldownKey{Channel: ch, Key: RecoveryRetrievedType}
	if coolingDown(st, cooldown, recoveryNoticeCooldown) {
		return skipped(ch, email, hub.SkipCooldown)
	}
	return queued(ch, email, cooldown)
}
