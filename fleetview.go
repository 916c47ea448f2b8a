package hub

import "time"

// Fleet is the fleet listing as of one moment: every customer, ordered by
// id (byte order), with what the fleet page and GET /api/v1/customers show
// of it. The store keeps it current (store/fleetview.go): a listing is
// shared by every reader and must not be changed.
//
// New per-customer facts for the listing go into FleetRow (or Customer,
// when they are part of the customer's JSON); the store fills them when it
// (re)reads a row.
type Fleet struct {
	Rows []*FleetRow
	// EventsSince is where the rows' Events begin: a count of events since
	// an earlier time cannot be answered from the listing.
	EventsSince time.Time
}

// FleetRow is one customer of the fleet listing.
type FleetRow struct {
	Customer *Customer
	// JSON is Customer encoded by encoding/json, made once per change of
	// the row; nil when it could not be encoded.
	JSON []byte
	// Events are the customer's error and warning events received since
	// the listing's EventsSince (some older ones may linger), in the order
	// they were found.
	Events []EventMark
}

// EventMark is what the fleet listing keeps of an error or warning event.
type EventMark struct {
	ID         int64
	ReceivedAt time.Time
	Severity   string
}

// EventCounts counts the row's error and warning events received at or
// after since.
func (r *FleetRow) EventCounts(since time.Time) EventCounts {
	var c EventCounts
	for _, e := range r.Events {
		if e.ReceivedAt.Before(since) {
			continue
		}
		switch e.Severity {
		case SeverityError:
			c.Errors++
		case SeverityWarning:
			c.Warnings++
		}
	}
	return c
}

// CanCount reports whether the listing holds every event received at or
// after since.
func (f *Fleet) CanCount(since time.Time) bool { return !since.Before(f.EventsSince) }
