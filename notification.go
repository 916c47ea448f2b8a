package hub

import (
	"context"
	"math"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Notification channels (SPEC §2.10).
const (
	ChannelOperator = "operator" // English mail to notifications.operator_email
	ChannelCustomer = "customer" // Hungarian mail to the customer's own address
)

// Notification statuses: a decision is queued or skipped; a queued one ends
// sent or failed.
const (
	NotificationQueued  = "queued"
	NotificationSent    = "sent"
	NotificationSkipped = "skipped"
	NotificationFailed  = "failed"
)

// Reasons a notification was skipped.
const (
	SkipCooldown   = "cooldown"    // one of the same kind went out within the cooldown
	SkipBlocked    = "blocked"     // the customer is blocked
	SkipDisabled   = "disabled"    // the channel is switched off in the hub's config
	SkipNotEnabled = "not_enabled" // the channel does not take this event (type or severity)
	SkipNoAddress  = "no_address"  // there is no address to send to
)

// Limits of the notification API.
const (
	MaxCooldownHours     = 168
	MaxEnabledEvents     = 64
	MaxEmailLength       = 254
	MaxRelaySubjectChars = 200
	MaxRelayMessageChars = 2000
)

// NotificationPrefs are the notification choices a customer makes on the
// controller, which syncs them to the hub.
type NotificationPrefs struct {
	CustomerID string `json:"customer_id"`
	// Email is where customer mails go; empty means none.
	Email string `json:"email"`
	// EnabledEvents are the event types the customer wants mail about.
	EnabledEvents []string `json:"enabled_events"`
	// CooldownHours is the least time between two mails of one event type;
	// nil means the hub's default.
	CooldownHours *int      `json:"cooldown_hours"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Enabled reports whether the customer wants mail about events of type t.
func (p *NotificationPrefs) Enabled(t string) bool {
	for _, e := range p.EnabledEvents {
		if e == t {
			return true
		}
	}
	return false
}

// Validate checks the preferences: a plain email address or none, known
// event types of any source, a cooldown of 0 to 168 hours. It also drops
// duplicate event types.
func (p *NotificationPrefs) Validate() error {
	if err := ValidateCustomerID(p.CustomerID); err != nil {
		return err
	}
	if err := ValidateEmail("email", p.Email); err != nil {
		return err
	}
	if len(p.EnabledEvents) > MaxEnabledEvents {
		return Errorf(EINVALID, "enabled_events has more than %d entries", MaxEnabledEvents)
	}
	seen := make(map[string]bool, len(p.EnabledEvents))
	events := make([]string, 0, len(p.EnabledEvents))
	for _, t := range p.EnabledEvents {
		if EventTypeSource(t) == "" {
			if len(t) <= 64 && isEventTypeName(t) {
				return Errorf(EINVALID, "enabled_events: %q is not a known event type", t)
			}
			return Errorf(EINVALID, "enabled_events: an entry is not a known event type")
		}
		if !seen[t] {
			seen[t] = true
			events = append(events, t)
		}
	}
	p.EnabledEvents = events
	if p.CooldownHours != nil && (*p.CooldownHours < 0 || *p.CooldownHours > MaxCooldownHours) {
		return Errorf(EINVALID, "cooldown_hours must be between 0 and %d", MaxCooldownHours)
	}
	return nil
}

// isEventTypeName reports whether s has only a-z, 0-9 and '_', so that it
// may be echoed in an error message.
func isEventTypeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// ValidateEmail accepts "" or one plain address such as anna@example.hu: no
// display name, no list, no control characters.
func ValidateEmail(field, addr string) error {
	if addr == "" {
		return nil
	}
	bad := Errorf(EINVALID, "%s must be an email address such as anna@example.hu", field)
	if len(addr) > MaxEmailLength || strings.ContainsAny(addr, "\r\n\t <>,;\"") {
		return bad
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr || parsed.Name != "" {
		return bad
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || ValidateDomain(domain) != nil {
		return bad
	}
	return nil
}

// Notification is one row of notification_log: a decision about one channel
// of one event (or legacy relay), and how its delivery went.
type Notification struct {
	ID         int64     `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Channel    string    `json:"channel"`
	CustomerID string    `json:"customer_id"`
	// EventID is the event notified about; 0 for a legacy relay.
	EventID   int64  `json:"event_id,omitempty"`
	EventType string `json:"event_type"`
	Recipient string `json:"recipient,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Status    string `json:"status"`
	// Reason is why a notification was skipped.
	Reason string `json:"reason,omitempty"`
	// Error is the last delivery error of a queued or failed notification.
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
}

// NotificationFilter selects notification_log rows, newest first.
type NotificationFilter struct {
	// CustomerID keeps one customer's rows; empty keeps all.
	CustomerID string
	// Status keeps one status; empty keeps all.
	Status string
	// Limit is the most rows returned (default and cap 1000).
	Limit int
}

// OutboxStats are the undelivered mails of one customer.
type OutboxStats struct {
	// Pending are queued mails still being tried.
	Pending int `json:"pending"`
	// Failed are mails given up on after the last attempt.
	Failed int `json:"failed"`
}

// NotificationService holds notification preferences and the notification
// history the dashboard shows.
type NotificationService interface {
	// SetNotificationPrefs stores a customer's preferences, replacing any;
	// EINVALID when the customer is unknown.
	SetNotificationPrefs(ctx context.Context, p *NotificationPrefs) error
	// FindNotificationPrefs returns a customer's preferences; ENOTFOUND when
	// it has none.
	FindNotificationPrefs(ctx context.Context, customerID string) (*NotificationPrefs, error)
	// FindNotifications returns notification_log rows, newest first.
	FindNotifications(ctx context.Context, f NotificationFilter) ([]*Notification, error)
	// FindOutboxStats returns, per customer, the mails pending and failed;
	// customers with none are absent.
	FindOutboxStats(ctx context.Context) (map[string]OutboxStats, error)
}

// CooldownKey names one cooldown of one customer: a channel and what is
// counted (an event type, or a legacy relay's subject).
type CooldownKey struct {
	Channel string
	Key     string
}

// NotificationState is what a notification decision reads, taken inside
// the transaction that stores the decision.
type NotificationState struct {
	Now time.Time
	// Customer is nil when the customer is unknown.
	Customer *Customer
	// Prefs is nil when the customer has none.
	Prefs *NotificationPrefs
	// LastSent holds the customer's cooldowns: when each last had a mail
	// queued.
	LastSent map[CooldownKey]time.Time
}

// Email is a rendered mail as the outbox keeps it; the sender adds From.
type Email struct {
	// IdempotencyKey is stable for one (event, channel, recipient), so that
	// a retry after a crash never sends twice.
	IdempotencyKey string
	To             string
	Subject        string
	Text           string
	HTML           string
}

// PlannedNotification is one decision to store: skipped, or queued with
// its mail and the cooldown it starts.
type PlannedNotification struct {
	Channel   string
	EventType string
	Recipient string
	Status    string // NotificationQueued or NotificationSkipped
	Reason    string
	// Email is the mail to queue; nil when skipped.
	Email *Email
	// Cooldown is set on a queued notification to the cooldown it starts.
	Cooldown *CooldownKey
}

// NotificationPlanner decides, from the state, what to store. It is called
// inside a write transaction and must not do I/O.
type NotificationPlanner func(state *NotificationState) ([]*PlannedNotification, error)

// OutboxMessage is a queued mail claimed by a sender.
type OutboxMessage struct {
	ID             int64
	NotificationID int64
	Channel        string
	CustomerID     string
	IdempotencyKey string
	To             string
	Subject        string
	Text           string
	HTML           string
	// Attempts counts the attempts including the one this claim is for.
	Attempts  int
	CreatedAt time.Time
}

// NotificationQueue is the durable notification outbox.
type NotificationQueue interface {
	// EnqueueNotifications runs plan on the customer's state and stores its
	// decisions, mails and cooldowns in one transaction. With an eventID it
	// also takes that event off the dispatch queue in that transaction and
	// does nothing (returning false) if the event was dispatched already.
	EnqueueNotifications(ctx context.Context, customerID string, eventID int64, plan NotificationPlanner) (bool, error)
	// ClaimOutbox leases up to limit due mails to owner until now+lease and
	// counts an attempt on each.
	ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration) ([]*OutboxMessage, error)
	// CompleteOutbox records a delivered mail. ECONFLICT when owner's lease
	// was lost.
	CompleteOutbox(ctx context.Context, id int64, owner string) error
	// RetryOutbox releases a mail to be tried again at next.
	RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastError string) error
	// FailOutbox gives up on a mail.
	FailOutbox(ctx context.Context, id int64, owner string, lastError string) error
	// NextOutboxDue returns when the next pending mail can be claimed; false
	// when none is pending.
	NextOutboxDue(ctx context.Context) (time.Time, bool, error)
}

// RelayRequest is a legacy POST /api/v1/notify: a free-form message for the
// operator.
type RelayRequest struct {
	CustomerID string `json:"customer_id"`
	Subject    string `json:"subject"`
	Message    string `json:"message"`
	Severity   string `json:"severity"`
}

// RelayResult says what became of a relayed message.
type RelayResult struct {
	// Status is NotificationQueued or NotificationSkipped.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Relayer sends legacy relayed messages through the operator channel.
type Relayer interface {
	RelayNotification(ctx context.Context, r *RelayRequest) (*RelayResult, error)
}

// Validate checks a relayed message: a customer, a subject of at most 200
// and a message of at most 2,000 characters without control characters in
// the subject, and a severity.
func (r *RelayRequest) Validate() error {
	if err := ValidateCustomerID(r.CustomerID); err != nil {
		return err
	}
	r.Subject = strings.TrimSpace(r.Subject)
	switch {
	case r.Subject == "":
		return Errorf(EINVALID, "subject is required")
	case utf8.RuneCountInString(r.Subject) > MaxRelaySubjectChars:
		return Errorf(EINVALID, "subject is longer than %d characters", MaxRelaySubjectChars)
	case strings.ContainsFunc(r.Subject, unicode.IsControl):
		return Errorf(EINVALID, "subject must be one line without control characters")
	case strings.TrimSpace(r.Message) == "":
		return Errorf(EINVALID, "message is required")
	case utf8.RuneCountInString(r.Message) > MaxRelayMessageChars:
		return Errorf(EINVALID, "message is longer than %d characters", MaxRelayMessageChars)
	}
	switch {
	case r.Severity == "":
		return Errorf(EINVALID, "severity is required: info, warning or error")
	case !ValidSeverity(r.Severity):
		return Errorf(EINVALID, "severity must be info, warning or error")
	}
	return nil
}

// prefsRequest is the body of POST /api/v1/preferences.
type prefsRequest struct {
	CustomerID    string   `json:"customer_id"`
	Email         string   `json:"email"`
	EnabledEvents []string `json:"enabled_events"`
	CooldownHours *float64 `json:"cooldown_hours"`
}

// ParseNotificationPrefs decodes and validates the preferences a controller
// syncs. A missing cooldown_hours means the hub's default.
func ParseNotificationPrefs(body []byte) (*NotificationPrefs, error) {
	var req prefsRequest
	if err := DecodeJSONObject(body, &req); err != nil {
		return nil, err
	}
	p := &NotificationPrefs{CustomerID: req.CustomerID, Email: req.Email, EnabledEvents: req.EnabledEvents}
	if p.EnabledEvents == nil {
		p.EnabledEvents = []string{}
	}
	if h := req.CooldownHours; h != nil {
		if *h != math.Trunc(*h) || *h < 0 || *h > MaxCooldownHours {
			return nil, Errorf(EINVALID, "cooldown_hours must be a whole number between 0 and %d", MaxCooldownHours)
		}
		n := int(*h)
		p.CooldownHours = &n
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseRelayRequest decodes and validates a legacy POST /api/v1/notify.
func ParseRelayRequest(body []byte) (*RelayRequest, error) {
	var r RelayRequest
	if err := DecodeJSONObject(body, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
