package hub

import (
	"context"
	"time"
)

// DefaultKeyRotationGrace is how long a rotated-out customer key stays
// valid when api.key_rotation_grace is not set.
const DefaultKeyRotationGrace = 24 * time.Hour

// MaxKeyRotationGrace bounds api.key_rotation_grace: a key that has been
// rotated out must not live on for months.
const MaxKeyRotationGrace = 30 * 24 * time.Hour

// KeyRotation is the state of a customer's API key after a rotation. The
// previous key is the last key the node was seen using: while it is valid,
// reports with it are accepted and the hub calls the controller with it,
// because that is the key the controller knows.
type KeyRotation struct {
	// PreviousAPIKey is "" when there is none (never rotated, the node has
	// reported with the current key, or the grace was 0).
	PreviousAPIKey string `json:"-"`
	// PreviousValidUntil is when the previous key stops being accepted.
	PreviousValidUntil time.Time `json:"previous_key_valid_until,omitzero"`
	// RotatedAt is when the current key was minted by a rotation; zero
	// for the key minted with the config.
	RotatedAt time.Time `json:"api_key_rotated_at,omitzero"`
	// ConfirmedAt is when the node first authenticated with the current
	// key; zero while it has not.
	ConfirmedAt time.Time `json:"api_key_confirmed_at,omitzero"`
}

// PreviousValid reports whether the previous key is still accepted at now.
func (k KeyRotation) PreviousValid(now time.Time) bool {
	return k.PreviousAPIKey != "" && now.Before(k.PreviousValidUntil)
}

// PreviousExpired reports whether a previous key's grace ran out before
// the node reported with the current key: the node is then locked out
// until it is given the current key by hand.
func (k KeyRotation) PreviousExpired(now time.Time) bool {
	return k.PreviousAPIKey != "" && !now.Before(k.PreviousValidUntil)
}

// ControllerKey returns the key to call the customer's controller with at
// now: the previous key while it is valid (the node has not shown that it
// has the current one), the current key otherwise.
func (c *CustomerConfig) ControllerKey(now time.Time) string {
	if c.Rotation.PreviousValid(now) {
		return c.Rotation.PreviousAPIKey
	}
	return c.APIKey
}

// RefusedReportReasons name why a report for an existing customer was
// refused; the customer page shows them.
const (
	RefusedNoKey         = "no API key"
	RefusedUnknownKey    = "unknown API key"
	RefusedOtherCustomer = "API key of another customer"
)

// RefusedReport is one refusal, counted for the customer the body claimed.
type RefusedReport struct {
	CustomerID string
	At         time.Time
	Reason     string
}

// RefusedReportCount is the refusals of one customer within one hour,
// as a replica adds them to the shared counts.
type RefusedReportCount struct {
	CustomerID string
	// Hour is the start of the hour the refusals fell in.
	Hour       time.Time
	Refused    int64
	LastAt     time.Time
	LastReason string
}

// RefusedReports sums a customer's refused reports since some time.
type RefusedReports struct {
	Refused    int64
	LastAt     time.Time
	LastReason string
}

// RefusedReportService keeps the counts of refused reports, shared by
// every replica.
type RefusedReportService interface {
	// AddRefusedReports adds counts to the stored ones, and forgets each
	// counted customer's hours older than before.
	AddRefusedReports(ctx context.Context, counts []RefusedReportCount, before time.Time) error
	// FindRefusedReports sums a customer's refusals in the hours that
	// start at or after since; zero when there are none.
	FindRefusedReports(ctx context.Context, customerID string, since time.Time) (RefusedReports, error)
	// FindCustomerIDs returns the ids of every customer.
	FindCustomerIDs(ctx context.Context) ([]string, error)
}
