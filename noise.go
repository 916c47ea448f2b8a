package hub

import (
	"context"
	"math"
	"time"
)

// Hub-only event types of alert noise control (SPEC §7.1). The fleet
// incident types belong to no customer.
const (
	EventNodeFlapping          = "node_flapping"
	EventFleetIncident         = "fleet_incident"
	EventFleetIncidentResolved = "fleet_incident_resolved"
)

// Reasons a notification was skipped by noise control (SPEC §7.1).
const (
	// SkipInhibited: the customer's Proxmox host is stale or down, and the
	// host's own mail says the controller is unreachable with it.
	SkipInhibited = "inhibited"
	// SkipFlapping: the node or host is flapping; one node_flapping alert
	// and one summary stand for its transitions.
	SkipFlapping = "flapping"
	// SkipIncident: the node is part of a fleet incident, mailed once.
	SkipIncident = "incident"
	// SkipDigested: the customer mail was folded into a digest mail.
	SkipDigested = "digested"
)

// Defaults of noise control.
const (
	DefaultFlapThreshold    = 4
	DefaultIncidentFraction = 0.3
	DefaultIncidentWindow   = 10 * time.Minute
	// MinIncidentNodes is the least number of nodes a fleet incident takes.
	MinIncidentNodes = 5
	// FlapPeriod is both the period transitions are counted over and how
	// long a flapping node must be steady before its episode ends.
	FlapPeriod = time.Hour
)

// OperatorOnlyEventType reports whether events of type t are the
// operator's alone: customers never get mail about them, whatever their
// preferences say.
func OperatorOnlyEventType(t string) bool {
	return AlertFollowUpType(t) || DREventType(t) || t == EventNodeFlapping || t == EventFleetIncident || t == EventFleetIncidentResolved
}

// FlapTransitionType reports whether t is a transition counted towards
// flapping: a node or host going stale or coming back.
func FlapTransitionType(t string) bool {
	return t == EventNodeStale || t == EventNodeRecovered || t == EventHostStale || t == EventHostRecovered
}

// NoiseState is what noise control knows about one event when its
// notifications are decided; the zero value holds nothing back.
type NoiseState struct {
	// Transitions counts the stale/recovered transitions of the event's
	// node or host in the FlapPeriod up to the event, it included (0 for
	// other events).
	Transitions int
	// Flapping is true while the node or host has an open flapping episode.
	Flapping bool
	// HostDown names the customer's stale or down Proxmox host that carries
	// its controller ("" for none); set for node_stale and node_down.
	HostDown string
	// Incident is the fleet incident the node belonged to when the event
	// happened; 0 for none. Set for node_stale, node_down, node_recovered.
	Incident int64
	// Digest is the customer's digest mail still held in the outbox, which
	// a new customer mail is folded into; nil when none is open.
	Digest *HeldDigest
}

// DigestItem is one customer mail of a digest, as rendered when it was
// decided.
type DigestItem struct {
	EventType string    `json:"event_type"`
	At        time.Time `json:"at"`
	// Subject is the mail's own subject without the brand prefix; Body its
	// plain-text body without greeting and signature.
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// HeldDigest is a customer mail held in the outbox for the digest window.
type HeldDigest struct {
	OutboxID int64
	LogID    int64
	Items    []DigestItem
}

// DigestFold updates a held digest mail with one more item.
type DigestFold struct {
	OutboxID int64
	LogID    int64
	Items    []DigestItem
	Email    *Email
}

// IncidentRule is when nodes going stale together are one fleet incident
// (alerting.incident_fraction, alerting.incident_window).
type IncidentRule struct {
	Fraction float64
	Window   time.Duration
}

// Opens reports whether silent of reporting nodes going stale within the
// window make an incident: at least MinIncidentNodes, and at least
// Fraction of the nodes that were reporting.
func (r IncidentRule) Opens(silent, reporting int) bool {
	if r.Fraction <= 0 || r.Window <= 0 || silent < MinIncidentNodes || reporting <= 0 {
		return false
	}
	need := int(math.Ceil(r.Fraction*float64(reporting) - 1e-9))
	return silent >= max(need, MinIncidentNodes)
}

// Resolves reports whether an open incident is over: every member is
// reporting again, or some are and none has come back for a whole window
// (the wave of returns has ended; those still silent are alerted on their
// own).
func (r IncidentRule) Resolves(members, back int, lastReturn, now time.Time) bool {
	if back >= members {
		return true
	}
	return back > 0 && !lastReturn.IsZero() && now.Sub(lastReturn) >= r.Window
}

// FleetIncident is an upstream outage: many nodes going stale together.
type FleetIncident struct {
	ID         int64      `json:"id"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Reporting is how many nodes were reporting when it opened.
	Reporting int `json:"reporting"`
	// Members are the customers whose nodes are in it; Back how many of
	// them report again.
	Members []string `json:"members"`
	Back    int      `json:"back"`
}

// FlappingNode is a node or host in an open flapping episode.
type FlappingNode struct {
	Kind       WatchKind `json:"kind"`
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	Name       string    `json:"name"`
	Since      time.Time `json:"since"`
	// Transitions counts its stale/recovered transitions since the episode
	// began (and in the hour before).
	Transitions int `json:"transitions"`
}

// NoiseService keeps the state of noise control. The Check methods are
// run by the staleness checker, which holds a lease: each decision is made
// once across replicas, and the database holds the state.
type NoiseService interface {
	// CheckFleetIncident opens a fleet incident when rule says the nodes
	// going stale make one, grows an open one with nodes going stale while
	// it lasts, and resolves it when reporting has resumed; it stores the
	// fleet_incident and fleet_incident_resolved events, and the normal
	// alerts of members still silent at the end, and returns them.
	CheckFleetIncident(ctx context.Context, now time.Time, rule IncidentRule) ([]*Event, error)
	// CheckFlapping opens an episode (a node_flapping event) for every node
	// or host with threshold transitions in the last FlapPeriod, and ends
	// (with a summary node_flapping event) every episode whose subject has
	// been steady for FlapPeriod; it returns the events stored.
	CheckFlapping(ctx context.Context, now time.Time, threshold int) ([]*Event, error)
	// FindOpenIncidents returns the open fleet incidents, newest first.
	FindOpenIncidents(ctx context.Context) ([]*FleetIncident, error)
	// FindFlapping returns the nodes and hosts flapping now, newest first.
	FindFlapping(ctx context.Context) ([]*FlappingNode, error)
}
