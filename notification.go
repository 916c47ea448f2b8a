package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
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

	// IgnoredEventTypes are the well-formed but unknown types a sync named
	// (SPEC §2.10); Problems the fields it could not read. Neither is stored.
	IgnoredEventTypes []string      `json:"-"`
	Problems          FieldProblems `json:"-"`
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
	// SilenceID is the silence of a notification skipped as silenced.
	SilenceID int64 `json:"silence_id,omitempty"`
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
	// Alerting holds the silences and open problem of the event's subject
	// (silence.go); nil when there is nothing to say.
	Alerting *AlertingState
	// Noise is what noise control knows about the event (noise.go).
	Noise NoiseState
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
	// Cooldown is set on a queued notification to the cooldown it starts,
	// and on one folded into a digest.
	Cooldown *CooldownKey
	// SilenceID is the silence of a notification skipped as silenced.
	SilenceID int64
	// Hold keeps a queued customer mail in the outbox for the digest
	// window, open to more items (Digest holds its own); 0 sends at once.
	Hold   time.Duration
	Digest *DigestItem
	// Fold, on a notification skipped as digested, is the held digest
	// mail it joins.
	Fold *DigestFold
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

	// Problems are the fields that could not be read.
	Problems FieldProblems `json:"-"`
}

// RelayResult says what became of a relayed message.
type RelayResult struct {
	// Status is NotificationQueued or NotificationSkipped.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// FieldProblems are the fields of the request the hub could not read.
	FieldProblems FieldProblems `json:"field_problems,omitempty"`
}

// Relayer sends legacy relayed messages through the operator channel.
type Relayer interface {
	RelayNotification(ctx context.Context, r *RelayRequest) (*RelayResult, error)
}

// prefsWire is the body of POST /api/v1/preferences, undecoded.
type prefsWire struct {
	identity
	Email         json.RawMessage `json:"email"`
	EnabledEvents json.RawMessage `json:"enabled_events"`
	CooldownHours json.RawMessage `json:"cooldown_hours"`
}

// ParseNotificationPrefs reads the preferences a controller syncs with the
// tolerant reader. current is what the hub holds (nil for none): a field
// that is absent from the body is cleared as before (email none, no events,
// cooldown the default), but a field that is present and unreadable keeps
// its current value, so that one odd field never silences a customer's
// mail. Unknown event types are ignored and listed in IgnoredEventTypes.
func ParseNotificationPrefs(body []byte, current *NotificationPrefs) (*NotificationPrefs, error) {
	var w prefsWire
	_, id, err := decodeFor(body, &w)
	if err != nil {
		return nil, err
	}
	if current == nil {
		current = &NotificationPrefs{}
	}
	var rd reader
	p := &NotificationPrefs{CustomerID: id, EnabledEvents: []string{}, IgnoredEventTypes: []string{}}
	if present(w.Email) {
		p.Email = current.Email
		if s, ok := rd.rawString("email", w.Email); ok {
			if addr, ok := rd.email("email", s); ok {
				p.Email = addr
			}
		}
	}
	if present(w.EnabledEvents) {
		p.EnabledEvents = current.EnabledEvents
		if items := rd.array("enabled_events", w.EnabledEvents, MaxEnabledEvents); items != nil {
			p.EnabledEvents, p.IgnoredEventTypes = rd.enabledEvents(items)
		}
	}
	if present(w.CooldownHours) {
		p.CooldownHours = current.CooldownHours
		if h, ok := rd.integer("cooldown_hours", w.CooldownHours, 0, MaxCooldownHours); ok {
			n := int(h)
			p.CooldownHours = &n
		}
	}
	p.Problems = rd.result()
	return p, nil
}

// email reads a plain address; "Anna <anna@example.hu>" gives its address.
func (rd *reader) email(path, s string) (string, bool) {
	s = strings.TrimSpace(s)
	if ValidateEmail(path, s) == nil {
		return s, true
	}
	if parsed, err := mail.ParseAddress(s); err == nil && ValidateEmail(path, parsed.Address) == nil {
		rd.problem(path, "not a plain address; its address part is used")
		return parsed.Address, true
	}
	rd.problem(path, "not an email address such as anna@example.hu; the address held before is kept")
	return "", false
}

// enabledEvents reads the event types a customer wants mail about: known
// types once each; unknown ones are returned apart.
func (rd *reader) enabledEvents(items []json.RawMessage) (enabled, ignored []string) {
	enabled, ignored = []string{}, []string{}
	seen := make(map[string]bool, len(items))
	for i, item := range items {
		path := fmt.Sprintf("enabled_events[%d]", i)
		s, ok := rd.rawString(path, item)
		if !ok {
			continue
		}
		t := strings.ToLower(strings.TrimSpace(s))
		if EventTypeSource(t) == "" {
			if eventTypePattern.MatchString(t) {
				ignored = append(ignored, t)
			} else {
				rd.problem(path, "not an event type name; ignored")
			}
			continue
		}
		if !seen[t] {
			seen[t] = true
			enabled = append(enabled, t)
		}
	}
	return enabled, ignored
}

// relayWire is the body of POST /api/v1/notify, undecoded.
type relayWire struct {
	identity
	Subject  json.RawMessage `json:"subject"`
	Message  json.RawMessage `json:"message"`
	Severity json.RawMessage `json:"severity"`
}

// ParseRelayRequest reads a legacy POST /api/v1/notify with the tolerant
// reader: a missing or bad severity is warning, a missing subject is made
// up, control characters in the subject (a mail header) become spaces, and
// long texts are cut, each with a problem.
func ParseRelayRequest(body []byte) (*RelayRequest, error) {
	var w relayWire
	_, id, err := decodeFor(body, &w)
	if err != nil {
		return nil, err
	}
	var rd reader
	r := &RelayRequest{CustomerID: id}
	subject, _ := rd.rawString("subject", w.Subject)
	if strings.ContainsFunc(subject, unicode.IsControl) {
		rd.problem("subject", "contains control characters; they became spaces")
		subject = strings.Map(func(c rune) rune {
			if unicode.IsControl(c) {
				return ' '
			}
			return c
		}, subject)
	}
	r.Subject = rd.cut("subject", strings.TrimSpace(subject), MaxRelaySubjectChars)
	if r.Subject == "" {
		rd.problem("subject", "missing; a subject naming the customer is used")
		r.Subject = "Message from " + id
	}
	message, _ := rd.rawString("message", w.Message)
	r.Message = rd.cut("message", message, MaxRelayMessageChars)
	r.Severity = rd.severity("severity", w.Severity)
	r.Problems = rd.result()
	return r, nil
}
