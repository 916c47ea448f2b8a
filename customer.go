package hub

import (
	"regexp"
	"time"
)

// customerIDPattern is the syntax of a customer id: [a-z0-9-], 2..40 characters.
var customerIDPattern = regexp.MustCompile(`^[a-z0-9-]{2,40}$`)

// ValidateCustomerID returns an EINVALID error when id is not a valid customer id.
func ValidateCustomerID(id string) error {
	if id == "" {
		return Errorf(EINVALID, "customer_id is required")
	}
	if !customerIDPattern.MatchString(id) {
		return Errorf(EINVALID, "customer_id must be 2 to 40 characters of a-z, 0-9 and '-'")
	}
	return nil
}

// Status is the operator-facing state of a customer (SPEC §2.9).
type Status string

// The statuses in order of precedence.
const (
	StatusBlocked  Status = "BLOCKED"
	StatusPending  Status = "PENDING"
	StatusDisabled Status = "DISABLED"
	StatusDown     Status = "DOWN"
	StatusWarn     Status = "WARN"
	StatusOK       Status = "OK"
)

// Thresholds are the ages after which a silent node counts as stale and down.
type Thresholds struct {
	Stale time.Duration
	Down  time.Duration
}

// DefaultThresholds are the hub's built-in staleness thresholds.
var DefaultThresholds = Thresholds{Stale: 30 * time.Minute, Down: 60 * time.Minute}

// Customer is one customer of the fleet: managed (it has a config) or manual
// (it only reports), with the summary of its latest report.
type Customer struct {
	ID          string    `json:"customer_id"`
	Managed     bool      `json:"managed"`
	DisplayName string    `json:"display_name,omitempty"`
	Domain      string    `json:"domain,omitempty"`
	Blocked     bool      `json:"blocked"`
	CreatedAt   time.Time `json:"created_at"`

	// MonitoringPaused is the operator's override in the config.
	MonitoringPaused bool `json:"monitoring_paused"`
	// Thresholds overrides the hub's defaults where non-zero.
	Thresholds Thresholds `json:"-"`

	Latest *ReportSummary `json:"latest,omitempty"`

	// HostsDown counts the customer's hosts whose dead man's switch says
	// down.
	HostsDown int `json:"-"`
}

// EffectiveThresholds returns the customer's thresholds with the defaults
// filled in where the customer has no override.
func (c *Customer) EffectiveThresholds(defaults Thresholds) Thresholds {
	t := c.Thresholds
	if t.Stale <= 0 {
		t.Stale = defaults.Stale
	}
	if t.Down <= 0 {
		t.Down = defaults.Down
	}
	return t
}

// Status computes the customer's status at now; the first match wins.
func (c *Customer) Status(now time.Time, defaults Thresholds) Status {
	switch {
	case c.Blocked:
		return StatusBlocked
	case c.Latest == nil:
		// Only managed customers can exist without a report.
		return StatusPending
	case c.MonitoringPaused || !c.Latest.MonitoringEnabled:
		return StatusDisabled
	}
	t := c.EffectiveThresholds(defaults)
	age := now.Sub(c.Latest.ReceivedAt)
	switch {
	case age > t.Down || c.Latest.Health == HealthFail:
		return StatusDown
	case age > t.Stale || c.Latest.Health == HealthWarn:
		return StatusWarn
	}
	return StatusOK
}
