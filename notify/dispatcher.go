package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

var (
	_ hub.EventDispatcher = (*Dispatcher)(nil)
	_ hub.Relayer         = (*Dispatcher)(nil)
)

// Dispatcher decides the notifications of every stored event and queues
// their mails in the outbox, in the transaction that takes the event off
// the dispatch queue.
type Dispatcher struct {
	Queue     hub.NotificationQueue
	Policy    Policy
	Templates *Templates
	// PublicURL is the hub's own URL (server.public_url); operator mails
	// link to the customer's page under it. Empty leaves the link out.
	PublicURL string
	// Location is the zone times are shown in (Europe/Budapest).
	Location *time.Location
	// NewRelayKey mints the idempotency key of a relayed message.
	NewRelayKey func() string
	// Observe, when set, is told each stored decision: its channel and
	// hub.NotificationQueued or hub.NotificationSkipped (for metrics).
	Observe func(channel, status string)
}

// observe reports stored decisions to Observe.
func (d *Dispatcher) observe(planned []*hub.PlannedNotification) {
	if d.Observe == nil {
		return
	}
	for _, p := range planned {
		d.Observe(p.Channel, p.Status)
	}
}

// NewDispatcher returns a Dispatcher showing times in Europe/Budapest.
func NewDispatcher(queue hub.NotificationQueue, policy Policy, templates *Templates, publicURL string) (*Dispatcher, error) {
	loc, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		return nil, fmt.Errorf("load Europe/Budapest: %w", err)
	}
	return &Dispatcher{
		Queue: queue, Policy: policy, Templates: templates, PublicURL: publicURL, Location: loc,
		NewRelayKey: func() string { return "felhom-hub/relay/" + hub.RandomHex(16) },
	}, nil
}

// DispatchEvent stores the decision of each channel about e and queues the
// mails decided. An event dispatched already is left alone.
func (d *Dispatcher) DispatchEvent(ctx context.Context, e *hub.Event) error {
	var details map[string]any
	if len(e.Details) > 0 {
		_ = json.Unmarshal(e.Details, &details) // details are optional decoration
	}
	var out []*hub.PlannedNotification
	done, err := d.Queue.EnqueueNotifications(ctx, e.CustomerID, e.ID, func(st *hub.NotificationState) ([]*hub.PlannedNotification, error) {
		out = out[:0]
		for _, dec := range d.Policy.Decide(e.Type, e.Severity, st) {
			p := &hub.PlannedNotification{Channel: dec.Channel, EventType: e.Type,
				Recipient: dec.Recipient, Status: dec.Status, Reason: dec.Reason, SilenceID: dec.SilenceID}
			if dec.Status == hub.NotificationQueued {
				lang := English
				if dec.Channel == hub.ChannelCustomer {
					lang = Hungarian
				}
				data := d.eventMailData(e, st, details)
				r, err := d.Templates.Render(lang, e.Type, data)
				if err != nil {
					return nil, err
				}
				key := fmt.Sprintf("felhom-hub/event/%d-%d/%s/%s", e.ID, e.ReceivedAt.UnixMilli(), dec.Channel, addressHash(dec.Recipient))
				p.Email = &hub.Email{IdempotencyKey: key, To: dec.Recipient, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
				cooldown := dec.Cooldown
				p.Cooldown = &cooldown
			}
			if err := d.digest(p, dec, e, st, details); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	if done {
		d.observe(out)
	}
	return nil
}

// RelayNotification validates a legacy relayed message and queues it for
// the operator, with an idempotency key of its own.
func (d *Dispatcher) RelayNotification(ctx context.Context, r *hub.RelayRequest) (*hub.RelayResult, error) {
	if err := hub.ValidateCustomerID(r.CustomerID); err != nil {
		return nil, err
	}
	key := d.NewRelayKey()
	var result hub.RelayResult
	var planned []*hub.PlannedNotification
	_, err := d.Queue.EnqueueNotifications(ctx, r.CustomerID, 0, func(st *hub.NotificationState) ([]*hub.PlannedNotification, error) {
		if st.Customer == nil {
			return nil, hub.Errorf(hub.EINVALID, "customer %s is unknown: a node must report before it sends notifications", r.CustomerID)
		}
		dec := d.Policy.DecideRelay(r.Subject, st)
		p := &hub.PlannedNotification{Channel: dec.Channel, EventType: RelayEventType,
			Recipient: dec.Recipient, Status: dec.Status, Reason: dec.Reason, SilenceID: dec.SilenceID}
		if dec.Status == hub.NotificationQueued {
			data := d.mailData(r.CustomerID, st, nil)
			data.EventType, data.Severity, data.Message = RelayEventType, r.Severity, r.Message
			data.RelaySubject, data.When = r.Subject, st.Now.In(d.Location)
			rendered, err := d.Templates.Render(English, relayTemplate, data)
			if err != nil {
				return nil, err
			}
			p.Email = &hub.Email{IdempotencyKey: key, To: dec.Recipient, Subject: rendered.Subject, Text: rendered.Text, HTML: rendered.HTML}
			cooldown := dec.Cooldown
			p.Cooldown = &cooldown
		}
		result = hub.RelayResult{Status: dec.Status, Reason: dec.Reason}
		planned = []*hub.PlannedNotification{p}
		return planned, nil
	})
	if err != nil {
		return nil, err
	}
	d.observe(planned)
	return &result, nil
}

// mailData fills in what every mail about a customer shows.
func (d *Dispatcher) mailData(customerID string, st *hub.NotificationState, details map[string]any) *MailData {
	data := &MailData{CustomerID: customerID, Details: details}
	if c := st.Customer; c != nil {
		data.CustomerName = c.DisplayName
		if c.Latest != nil {
			data.Node = c.Latest.Hostname
		}
	}
	if data.CustomerName == "" {
		data.CustomerName = data.CustomerID
	}
	// Host events name their host; it is the node they are about.
	if h := data.Detail("hostname"); h != "" {
		data.Node = h
	} else if h := data.Detail("host_id"); h != "" {
		data.Node = h
	}
	if d.PublicURL != "" && data.CustomerID != "" {
		data.DashboardURL = strings.TrimRight(d.PublicURL, "/") + "/customers/" + url.PathEscape(data.CustomerID)
	}
	return data
}

// addressHash names a recipient in an idempotency key without spelling out
// the address.
func addressHash(addr string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(addr)))
	return hex.EncodeToString(sum[:8])
}
