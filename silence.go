package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // maintenance windows are in Europe/Budapest on any host
	"unicode"
	"unicode/utf8"
)

// Skip reasons of silences and acknowledgements (SPEC §7.1).
const (
	SkipSilenced     = "silenced"     // a silence or maintenance window covers the event
	SkipAcknowledged = "acknowledged" // the operator acknowledged the open problem
)

// Hub-only event types of alert follow-up: they go to the operator only.
const (
	// EventStillDownAfterSilence tells the operator, once, that a problem
	// whose alerts a silence muted is still open when the silence ends.
	EventStillDownAfterSilence = "still_down_after_silence"
	// EventAlertReminder repeats an unacknowledged DOWN every
	// alerting.reminder_interval.
	EventAlertReminder = "alert_reminder"
	// EventAlertEscalation goes to notifications.escalation_email once an
	// unacknowledged DOWN has lasted alerting.escalate_after.
	EventAlertEscalation = "alert_escalation"
)

func init() {
	for _, t := range []string{EventStillDownAfterSilence, EventAlertReminder, EventAlertEscalation} {
		eventTypes[t] = SourceHub
	}
}

// AlertFollowUpType reports whether t is an alert follow-up (still down
// after a silence, reminder, escalation): for the operator alone, decided
// without a cooldown of its own.
func AlertFollowUpType(t string) bool {
	return t == EventStillDownAfterSilence || t == EventAlertReminder || t == EventAlertEscalation
}

// Limits of silences.
const (
	MaxSilenceLength       = 30 * 24 * time.Hour
	MaxSilenceReasonChars  = 500
	MaxSilenceEventTypes   = 64
	MaxWindowDuration      = 7 * 24 * time.Hour
	MinWindowDuration      = time.Minute
	DefaultSilenceListSize = 200
)

// Silence states, as GET /api/v1/admin/silences?state= filters them.
const (
	SilenceActive   = "active"   // muting now
	SilenceUpcoming = "upcoming" // will mute later (a later start, or the next window)
	SilenceExpired  = "expired"  // will never mute again
)

// Recurrence makes a silence a weekly maintenance window: on each of
// Weekdays (1 Monday … 7 Sunday) from Start ("HH:MM", Europe/Budapest) for
// Duration. The silence's StartsAt and EndsAt bound the series.
type Recurrence struct {
	Weekdays []int  `json:"weekdays"`
	Start    string `json:"start"`
	Duration string `json:"duration"`

	hour, minute int
	length       time.Duration
}

// Silence mutes the notifications of the events it covers while it is
// active; the events are stored and shown as always.
type Silence struct {
	ID int64 `json:"id"`
	// The scope: every field set must match; at least one is set.
	// CustomerID is filled in from the host for a host-scoped silence.
	CustomerID string   `json:"customer_id,omitempty"`
	HostID     string   `json:"host_id,omitempty"`
	EventTypes []string `json:"event_types,omitempty"`

	StartsAt   time.Time   `json:"starts_at"`
	EndsAt     time.Time   `json:"ends_at"`
	Reason     string      `json:"reason"`
	Recurrence *Recurrence `json:"recurrence,omitempty"`
	Author     string      `json:"author"`
	CreatedAt  time.Time   `json:"created_at"`
	// EndedAt is set when an operator ended the silence early.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	EndedBy string     `json:"ended_by,omitempty"`
}

// budapest is the zone of maintenance windows.
var budapest = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		panic("hub: Europe/Budapest: " + err.Error()) // the zone data is embedded
	}
	return loc
})

// SilenceZone returns Europe/Budapest, the zone of maintenance windows.
func SilenceZone() *time.Location { return budapest() }

// silenceWire is the body of POST /api/v1/admin/silences.
type silenceWire struct {
	CustomerID *string    `json:"customer_id"`
	HostID     *string    `json:"host_id"`
	EventTypes []string   `json:"event_types"`
	StartsAt   *time.Time `json:"starts_at"`
	EndsAt     *time.Time `json:"ends_at"`
	Reason     *string    `json:"reason"`
	Recurrence *struct {
		Weekdays []int  `json:"weekdays"`
		Start    string `json:"start"`
		Duration string `json:"duration"`
	} `json:"recurrence"`
}

// ParseSilence reads a silence to create (SPEC §7.1); Validate checks it.
// Unknown fields and wrong types are errors naming the field.
func ParseSilence(body []byte) (*Silence, error) {
	var w silenceWire
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, silenceDecodeError(err)
	}
	if dec.More() {
		return nil, Errorf(EINVALID, "the body must be one JSON object")
	}
	s := &Silence{EventTypes: w.EventTypes}
	if w.CustomerID != nil {
		s.CustomerID = *w.CustomerID
	}
	if w.HostID != nil {
		s.HostID = *w.HostID
	}
	if w.Reason != nil {
		s.Reason = *w.Reason
	}
	if w.EndsAt == nil {
		return nil, Errorf(EINVALID, "ends_at is required: an RFC 3339 time such as 2026-11-22T18:00:00Z")
	}
	s.EndsAt = *w.EndsAt
	if w.StartsAt != nil {
		s.StartsAt = *w.StartsAt
	}
	if r := w.Recurrence; r != nil {
		s.Recurrence = &Recurrence{Weekdays: r.Weekdays, Start: r.Start, Duration: r.Duration}
	}
	return s, nil
}

// silenceDecodeError names the field encoding/json could not read.
func silenceDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return Errorf(EINVALID, "%s has the wrong type", typeErr.Field)
	case errors.As(err, &timeErr):
		return Errorf(EINVALID, "starts_at and ends_at must be RFC 3339 times such as 2026-11-22T18:00:00Z")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Errorf(EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return Errorf(EINVALID, "the body must be a JSON object")
}

// Validate checks a silence to create at now and normalises it: a scope,
// a reason, an end within 30 days of its start (now when none is given),
// and a well-formed recurrence.
func (s *Silence) Validate(now time.Time) error {
	if s.CustomerID == "" && s.HostID == "" && len(s.EventTypes) == 0 {
		return Errorf(EINVALID, "the scope is empty: set customer_id, host_id and/or event_types (a silence of everything is refused)")
	}
	if s.CustomerID != "" {
		if err := ValidateCustomerID(s.CustomerID); err != nil {
			return Errorf(EINVALID, "customer_id is not a customer id ([a-z0-9-], 2 to 40 characters)")
		}
	}
	if s.HostID != "" {
		if err := ValidateHostID(s.HostID); err != nil {
			return Errorf(EINVALID, "host_id is not a host id ([a-z0-9-], 2 to 64 characters)")
		}
	}
	if len(s.EventTypes) > MaxSilenceEventTypes {
		return Errorf(EINVALID, "event_types may name at most %d types", MaxSilenceEventTypes)
	}
	types := make([]string, 0, len(s.EventTypes))
	for _, t := range s.EventTypes {
		if !eventTypePattern.MatchString(t) {
			return Errorf(EINVALID, "event_types: %q is not an event type name", strings.ToValidUTF8(cutRunes(t, 64), "?"))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	s.EventTypes = types
	s.Reason = strings.TrimSpace(s.Reason)
	switch {
	case s.Reason == "":
		return Errorf(EINVALID, "reason is required: say why the alerts are muted")
	case !utf8.ValidString(s.Reason) || strings.ContainsFunc(s.Reason, unicode.IsControl):
		return Errorf(EINVALID, "reason must be text without control characters")
	case utf8.RuneCountInString(s.Reason) > MaxSilenceReasonChars:
		return Errorf(EINVALID, "reason is longer than %d characters", MaxSilenceReasonChars)
	}
	if s.StartsAt.IsZero() || s.StartsAt.Before(now) {
		s.StartsAt = now
	}
	s.StartsAt, s.EndsAt = s.StartsAt.UTC().Truncate(time.Millisecond), s.EndsAt.UTC().Truncate(time.Millisecond)
	switch {
	case s.EndsAt.IsZero():
		return Errorf(EINVALID, "ends_at is required")
	case !s.EndsAt.After(s.StartsAt):
		return Errorf(EINVALID, "ends_at must be after starts_at (and after now)")
	case s.EndsAt.Sub(s.StartsAt) > MaxSilenceLength:
		return Errorf(EINVALID, "ends_at is more than 30 days after starts_at: a silence lasts at most 30 days")
	}
	if s.Recurrence != nil {
		if err := s.Recurrence.validate(); err != nil {
			return err
		}
	}
	return nil
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// validate checks and parses a recurrence.
func (r *Recurrence) validate() error {
	if len(r.Weekdays) == 0 || len(r.Weekdays) > 7 {
		return Errorf(EINVALID, "recurrence.weekdays must list 1 to 7 days, 1 Monday … 7 Sunday")
	}
	for i, d := range r.Weekdays {
		if d < 1 || d > 7 || slices.Contains(r.Weekdays[:i], d) {
			return Errorf(EINVALID, "recurrence.weekdays must list distinct days, 1 Monday … 7 Sunday")
		}
	}
	var h, m int
	if len(r.Start) != 5 || r.Start[2] != ':' {
		return Errorf(EINVALID, "recurrence.start must be a time of day HH:MM such as 22:30")
	}
	if _, err := fmt.Sscanf(r.Start, "%02d:%02d", &h, &m); err != nil || h > 23 || m > 59 || h < 0 || m < 0 {
		return Errorf(EINVALID, "recurrence.start must be a time of day HH:MM such as 22:30")
	}
	d, err := time.ParseDuration(r.Duration)
	if err != nil || d < MinWindowDuration || d > MaxWindowDuration {
		return Errorf(EINVALID, "recurrence.duration must be a duration between 1m and 168h such as 2h or 90m")
	}
	r.hour, r.minute, r.length = h, m, d
	return nil
}

// parsed fills in the parsed fields of a recurrence read from the store.
func (r *Recurrence) parsed() *Recurrence {
	if r.length == 0 {
		_ = r.validate() // stored recurrences were validated when created
	}
	return r
}

// end is when the silence stops for good: its end, or when it was ended.
func (s *Silence) end() time.Time {
	if s.EndedAt != nil && s.EndedAt.Before(s.EndsAt) {
		return *s.EndedAt
	}
	return s.EndsAt
}

// Window returns the period of muting that covers t, or the next one after
// t, within the silence's bounds; false when there is none.
func (s *Silence) Window(t time.Time) (from, to time.Time, ok bool) {
	return s.window(t, 8)
}

// window looks for the window covering t or, up to ahead local days
// later, the next one.
func (s *Silence) window(t time.Time, ahead int) (from, to time.Time, ok bool) {
	end := s.end()
	if !t.Before(end) {
		return time.Time{}, time.Time{}, false
	}
	if s.Recurrence == nil {
		return s.StartsAt, end, true
	}
	r := s.Recurrence.parsed()
	if r.length <= 0 {
		return time.Time{}, time.Time{}, false
	}
	return s.windowOn(t, localDay(t), ahead)
}

// day is a local date in Europe/Budapest and its ISO weekday.
type day struct {
	year         int
	month        time.Month
	date, isoDay int
}

func localDay(t time.Time) day {
	local := t.In(budapest())
	y, m, d := local.Date()
	return day{y, m, d, isoWeekday(local.Weekday())}
}

// windowOn is window with t's local date worked out already.
func (s *Silence) windowOn(t time.Time, today day, ahead int) (from, to time.Time, ok bool) {
	end := s.end()
	r := s.Recurrence.parsed()
	if r.length <= 0 {
		return time.Time{}, time.Time{}, false
	}
	loc := budapest()
	back := int(r.length/(24*time.Hour)) + 1
	// Windows are walked by local date, so that the start stays at its
	// local time across a change of daylight saving time.
	year, month, weekday := today.year, today.month, today.isoDay
	for i := -back; i <= ahead; i++ {
		if !slices.Contains(r.Weekdays, (weekday+i%7+6)%7+1) {
			continue
		}
		ws := time.Date(year, month, today.date+i, r.hour, r.minute, 0, 0, loc)
		we := ws.Add(r.length)
		if ws.Before(s.StartsAt) {
			ws = s.StartsAt
		}
		if we.After(end) {
			we = end
		}
		if !we.After(ws) || !we.After(t) {
			continue
		}
		return ws.UTC(), we.UTC(), true
	}
	return time.Time{}, time.Time{}, false
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// ActiveAt reports whether the silence mutes at t.
func (s *Silence) ActiveAt(t time.Time) bool {
	if t.Before(s.StartsAt) || !t.Before(s.end()) {
		return false
	}
	from, _, ok := s.window(t, 0)
	return ok && !t.Before(from)
}

// State returns SilenceActive, SilenceUpcoming or SilenceExpired at now.
func (s *Silence) State(now time.Time) string {
	from, _, ok := s.Window(now)
	switch {
	case !ok:
		return SilenceExpired
	case now.Before(from):
		return SilenceUpcoming
	}
	return SilenceActive
}

// AlertSubject is what an alert is about: a customer's node or one of its
// hosts, and the event type that counts for silences.
type AlertSubject struct {
	Kind       WatchKind
	CustomerID string
	// HostID is set for a host.
	HostID string
	// EventType is the type matched against a silence's event_types: the
	// event's own, or for a follow-up the type of the problem it follows.
	EventType string
}

// Matches reports whether the silence's scope covers the subject.
func (s *Silence) Matches(sub AlertSubject) bool {
	if s.CustomerID != "" && s.CustomerID != sub.CustomerID {
		return false
	}
	if s.HostID != "" && s.HostID != sub.HostID {
		return false
	}
	return len(s.EventTypes) == 0 || slices.Contains(s.EventTypes, sub.EventType)
}

// MatchSilence returns the first silence (lowest id) active at now that
// covers the subject; nil when none does.
func MatchSilence(silences []*Silence, sub AlertSubject, now time.Time) *Silence {
	var found *Silence
	var today *day
	for _, s := range silences {
		if (found != nil && s.ID > found.ID) || !s.Matches(sub) || now.Before(s.StartsAt) || !now.Before(s.end()) {
			continue
		}
		if s.Recurrence != nil {
			if today == nil {
				d := localDay(now)
				today = &d
			}
			if from, _, ok := s.windowOn(now, *today, 0); !ok || now.Before(from) {
				continue
			}
		}
		found = s
	}
	return found
}

// OpenProblem is the alerting record of a node or host that is stale or
// down: whether a silence muted its alerts, who acknowledged it, and the
// reminders and escalation it had. It ends when the node or host recovers.
type OpenProblem struct {
	Kind WatchKind `json:"kind"`
	// WatchID is the customer id of a node, the host id of a host.
	WatchID    string `json:"watch_id"`
	CustomerID string `json:"customer_id"`
	// Episode is the time of the last report before the silence: every
	// event of one outage has the same.
	Episode time.Time `json:"-"`
	// MutedBy is the silence that muted its latest alert; 0 for none.
	MutedBy int64 `json:"muted_by,omitempty"`
	// FollowedUpAt is when the operator was told it outlasted MutedBy.
	FollowedUpAt time.Time `json:"followed_up_at,omitzero"`
	AckedAt      time.Time `json:"acked_at,omitzero"`
	AckedBy      string    `json:"acked_by,omitempty"`
	AckNote      string    `json:"ack_note,omitempty"`
	Reminders    int       `json:"reminders"`
	EscalatedAt  time.Time `json:"escalated_at,omitzero"`

	// Filled in by the reads that list open problems.
	State MonitorState `json:"state"`
	// Since is when the node or host entered State.
	Since time.Time `json:"since"`
	Name  string    `json:"name"`
	// Stored is false when no alert of this outage was dispatched yet.
	Stored bool `json:"-"`
	// Muted is true for a blocked or paused customer: no follow-ups.
	Muted bool `json:"-"`
}

// ProblemType returns the event type of the problem's current state, such
// as node_down: what a silence's event_types must name to cover it.
func (p *OpenProblem) ProblemType() string {
	return watchEventTypes[p.Kind][p.State]
}

// Subject returns what the problem's alerts are about, as silences match it.
func (p *OpenProblem) Subject() AlertSubject {
	sub := AlertSubject{Kind: p.Kind, CustomerID: p.CustomerID, EventType: p.ProblemType()}
	if p.Kind == WatchHost {
		sub.HostID = p.WatchID
	}
	return sub
}

// EpisodeOf returns the episode of an outage whose last report was at
// lastReport: the time in whole seconds, as watch events carry it.
func EpisodeOf(lastReport time.Time) time.Time { return lastReport.Truncate(time.Second).UTC() }

// Acked reports whether the problem is acknowledged.
func (p *OpenProblem) Acked() bool { return p != nil && !p.AckedAt.IsZero() }

// AlertingState is what silences and acknowledgements add to a
// notification decision: the event's subject, the silences that may cover
// it, and its open problem.
type AlertingState struct {
	Subject AlertSubject
	// Silences are the customer's and the fleet-wide silences not yet over.
	Silences []*Silence
	// Problem is the subject's open problem; nil when there is none.
	Problem *OpenProblem
}

// Acknowledgement of a customer's open problems (SPEC §7.1).
type Acknowledgement struct {
	CustomerID string    `json:"customer_id"`
	Note       string    `json:"note"`
	By         string    `json:"acked_by"`
	At         time.Time `json:"acked_at"`
	// Problems are the open problems it acknowledged.
	Problems []*OpenProblem `json:"problems"`
}

// ValidateAckNote checks an acknowledgement's note: text without control
// characters, at most MaxSilenceReasonChars; it may be empty.
func ValidateAckNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if !utf8.ValidString(note) || strings.ContainsFunc(note, unicode.IsControl) {
		return "", Errorf(EINVALID, "note must be text without control characters")
	}
	if utf8.RuneCountInString(note) > MaxSilenceReasonChars {
		return "", Errorf(EINVALID, "note is longer than %d characters", MaxSilenceReasonChars)
	}
	return note, nil
}

// SilenceFilter selects silences for a list.
type SilenceFilter struct {
	// State keeps one of SilenceActive, SilenceUpcoming, SilenceExpired;
	// empty keeps all.
	State string
	// CustomerID keeps the silences that name this customer; empty keeps all.
	CustomerID string
	Limit      int
}

// AlertAction is a decision of the alert follow-up pass about one open
// problem: the record's new reminder state, and the event to store with
// it. It applies only while the record is as the pass read it.
type AlertAction struct {
	Problem OpenProblem
	// Update is the record after the action.
	Update OpenProblem
	// Events are stored with it.
	Events []*Event
}

// AlertService keeps silences, acknowledgements and the open problems'
// alerting records.
type AlertService interface {
	// CreateSilence stores a validated silence, filling in the customer of
	// a host; EINVALID when its customer or host is unknown.
	CreateSilence(ctx context.Context, s *Silence) error
	// FindSilenceByID returns a silence; ENOTFOUND when there is none.
	FindSilenceByID(ctx context.Context, id int64) (*Silence, error)
	// FindSilences returns silences, newest first.
	FindSilences(ctx context.Context, f SilenceFilter) ([]*Silence, error)
	// EndSilence ends a silence now; ECONFLICT when it is over already.
	EndSilence(ctx context.Context, id int64, by string) (*Silence, error)
	// AcknowledgeCustomer acknowledges every open problem of a customer;
	// ECONFLICT when it has none.
	AcknowledgeCustomer(ctx context.Context, customerID, by, note string) (*Acknowledgement, error)
	// FindOpenProblems returns every node and host that is stale or down,
	// with its alerting record, newest first.
	FindOpenProblems(ctx context.Context) ([]*OpenProblem, error)
	// ApplyAlertActions applies each action with a compare-and-set on the
	// record, storing its event in the same transaction, and returns the
	// events stored.
	ApplyAlertActions(ctx context.Context, actions []AlertAction) ([]*Event, error)
}

// ValidEventTypeName reports whether t is a well-formed event type name,
// known or not.
func ValidEventTypeName(t string) bool { return eventTypePattern.MatchString(t) }
