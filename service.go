package hub

import (
	"context"
	"encoding/json"
	"time"
)

// ReportResult is what storing a report tells the caller.
type ReportResult struct {
	ReportID        int64
	CustomerBlocked bool
	// NewCustomer is true when the report created a manual customer.
	NewCustomer bool
}

// StoredReport is a report as the hub keeps it.
type StoredReport struct {
	CustomerID string
	Summary    ReportSummary
	Body       json.RawMessage
}

// ReportService stores controller reports and answers questions about them.
type ReportService interface {
	// CreateReport stores r, creating a manual customer for an unknown id.
	CreateReport(ctx context.Context, r *Report) (*ReportResult, error)
	// FindLatestReport returns the customer's latest report; ENOTFOUND when
	// the customer is unknown or has not reported.
	FindLatestReport(ctx context.Context, customerID string) (*StoredReport, error)
	// FindHistory returns the summaries of the customer's reports received
	// at or after since, oldest first.
	FindHistory(ctx context.Context, customerID string, since time.Time) ([]ReportSummary, error)
}

// CustomerService holds customers and their managed configs.
type CustomerService interface {
	// FindCustomers returns every customer, managed and manual, by id.
	FindCustomers(ctx context.Context) ([]*Customer, error)
	// FindCustomerByID returns one customer; ENOTFOUND when unknown.
	FindCustomerByID(ctx context.Context, id string) (*Customer, error)
	// CreateCustomerConfig stores a new managed config with the credentials
	// it carries; ECONFLICT when a config for the id exists.
	CreateCustomerConfig(ctx context.Context, cfg *CustomerConfig) error
	// FindCustomerConfig returns a managed config with its credentials.
	FindCustomerConfig(ctx context.Context, id string) (*CustomerConfig, error)
	// UpdateCustomerConfig saves the operator-editable fields of an existing
	// config (display name, domain, status, monitoring overrides); the
	// credentials are left alone. ENOTFOUND when the customer has no config.
	UpdateCustomerConfig(ctx context.Context, cfg *CustomerConfig) error
	// SetCustomerBlocked blocks or unblocks a managed customer.
	SetCustomerBlocked(ctx context.Context, id string, blocked bool) error
	// RotateCustomerKey replaces the customer's API key with a new one.
	RotateCustomerKey(ctx context.Context, id string, newKey string) error
	// DeleteCustomerConfig removes the managed config; a customer that has
	// reported stays as a manual customer.
	DeleteCustomerConfig(ctx context.Context, id string) error
	// FindCustomerIDByKey returns the customer whose API key is key;
	// EUNAUTHORIZED when no customer has it.
	FindCustomerIDByKey(ctx context.Context, key string) (string, error)
}

// CustomerConfig is the operator-managed configuration of a customer.
type CustomerConfig struct {
	CustomerID  string `json:"customer_id"`
	DisplayName string `json:"display_name"`
	Domain      string `json:"domain"`
	// Status is ConfigActive or ConfigBlocked.
	Status string `json:"status"`

	// Monitoring overrides: zero thresholds use the hub's defaults.
	MonitoringPaused bool          `json:"monitoring_paused"`
	StaleThreshold   time.Duration `json:"-"`
	DownThreshold    time.Duration `json:"-"`

	// Credentials, minted with crypto/rand and sealed at rest.
	APIKey            string `json:"api_key"`
	RetrievalPassword string `json:"retrieval_password"`
	SessionSecret     string `json:"-"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Config statuses.
const (
	ConfigActive  = "active"
	ConfigBlocked = "blocked"
)

// MintCredentials fills the config's credentials with fresh random values.
func (c *CustomerConfig) MintCredentials() {
	c.APIKey = NewAPIKey()
	c.RetrievalPassword = NewRetrievalPassword()
	c.SessionSecret = RandomHex(32)
}

// Validate checks the operator-editable fields.
func (c *CustomerConfig) Validate() error {
	if err := ValidateCustomerID(c.CustomerID); err != nil {
		return err
	}
	if len(c.DisplayName) > 200 {
		return Errorf(EINVALID, "display_name is longer than 200 characters")
	}
	if err := ValidateDomain(c.Domain); err != nil {
		return err
	}
	switch c.Status {
	case ConfigActive, ConfigBlocked:
	default:
		return Errorf(EINVALID, "status must be active or blocked")
	}
	if c.StaleThreshold < 0 || c.DownThreshold < 0 {
		return Errorf(EINVALID, "stale_threshold and down_threshold must not be negative")
	}
	if c.StaleThreshold > 0 && c.DownThreshold > 0 && c.DownThreshold <= c.StaleThreshold {
		return Errorf(EINVALID, "down_threshold must be longer than stale_threshold")
	}
	return nil
}
