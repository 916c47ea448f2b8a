package hub

import (
	"context"
	"encoding/json"
	"regexp"
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
	// Problems are the fields the tolerant reader could not read.
	Problems FieldProblems
}

// ReportService stores controller reports and answers questions about them.
type ReportService interface {
	// CreateReport stores r, creating a manual customer for an unknown id.
	CreateReport(ctx context.Context, r *Report) (*ReportResult, error)
	// FindLatestReport returns the customer's latest report; ENOTFOUND when
	// the customer is unknown or has not reported.
	FindLatestReport(ctx context.Context, customerID string) (*StoredReport, error)
}

// CustomerService holds customers and their managed configs.
type CustomerService interface {
	// FindCustomers returns every customer, managed and manual, by id.
	FindCustomers(ctx context.Context) ([]*Customer, error)
	// ListFleet returns the fleet listing: what FindCustomers returns, with
	// each customer's recent error and warning events, kept current without
	// reading every customer again (it follows other replicas' writes
	// within a few seconds, its own at once).
	ListFleet(ctx context.Context) (*Fleet, error)
	// FindCustomerByID returns one customer; ENOTFOUND when unknown.
	FindCustomerByID(ctx context.Context, id string) (*Customer, error)
	// CreateCustomerConfig stores a new managed config with the credentials
	// it carries; ECONFLICT when a config for the id exists.
	CreateCustomerConfig(ctx context.Context, cfg *CustomerConfig) error
	// FindCustomerConfig returns a managed config with its credentials.
	FindCustomerConfig(ctx context.Context, id string) (*CustomerConfig, error)
	// SetCustomerBlocked blocks or unblocks a managed customer.
	SetCustomerBlocked(ctx context.Context, id string, blocked bool) error
	// RotateCustomerKey replaces the customer's API key with a new one.
	// The key the node was last seen using stays valid for grace (0: not
	// at all), or until the node authenticates with the new key: the
	// current key when the node has used it or no earlier key is still
	// valid, else the earlier key, whose grace starts again.
	RotateCustomerKey(ctx context.Context, id string, newKey string, grace time.Duration) error
	// RotateRetrievalPassword replaces the customer's retrieval password;
	// the old one stops working at once.
	RotateRetrievalPassword(ctx context.Context, id, newPassword string) error
	// DeleteCustomerConfig removes the managed config; a customer that has
	// reported stays as a manual customer.
	DeleteCustomerConfig(ctx context.Context, id string) error
	// FindCustomerIDByKey returns the customer whose API key is key, or
	// whose previous key it is while that is valid; EUNAUTHORIZED when no
	// customer has it.
	FindCustomerIDByKey(ctx context.Context, key string) (string, error)
	// AuthenticateCustomerKey is FindCustomerIDByKey for a request the node
	// makes: the first use of a customer's current key after a rotation
	// records that the node has it and ends the previous key's grace.
	AuthenticateCustomerKey(ctx context.Context, key string) (string, error)
	// UpdateCustomerConfig reads the config, lets update change it, validates
	// and stores it in one transaction; nothing is stored when update or
	// validation fails. Credentials and identity are not changed by it.
	UpdateCustomerConfig(ctx context.Context, id string, update func(*CustomerConfig) error) (*CustomerConfig, error)
	// AuthenticateRetrieval checks a retrieval password in constant time.
	// An unknown customer and a wrong password give the same EUNAUTHORIZED
	// after the same work.
	AuthenticateRetrieval(ctx context.Context, id, password string) error
}

// ErrRetrievalDenied is the one answer to a failed retrieval password check,
// whatever the reason, so that it does not tell which customers exist.
var ErrRetrievalDenied = Errorf(EUNAUTHORIZED, "unknown customer or wrong retrieval password")

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
	// Rotation is the state of the API key after a rotation: the previous
	// key the node may still use, and whether it has used the current one.
	Rotation KeyRotation `json:"key_rotation"`

	// CloudflareTunnelToken is the customer's tunnel token, sealed at rest.
	CloudflareTunnelToken string `json:"cloudflare_tunnel_token"`
	// Legacy healthchecks ping UUIDs: deprecated, kept for old controllers.
	LegacyHeartbeatUUID string `json:"legacy_heartbeat_uuid"`
	LegacyBackupUUID    string `json:"legacy_backup_uuid"`
	// OverridesYAML is a free-form YAML mapping merged over the template
	// (configgen checks its shape); sealed at rest since it may hold secrets.
	OverridesYAML string `json:"overrides_yaml"`

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
	if err := ValidateToken("cloudflare_tunnel_token", c.CloudflareTunnelToken); err != nil {
		return err
	}
	if err := ValidateUUID("legacy_heartbeat_uuid", c.LegacyHeartbeatUUID); err != nil {
		return err
	}
	if err := ValidateUUID("legacy_backup_uuid", c.LegacyBackupUUID); err != nil {
		return err
	}
	if len(c.OverridesYAML) > MaxOverridesBytes {
		return Errorf(EINVALID, "overrides_yaml is larger than %d KiB", MaxOverridesBytes>>10)
	}
	return nil
}

// MaxOverridesBytes limits a customer's free-form overrides YAML.
const MaxOverridesBytes = 64 << 10

// ValidateToken accepts "" or up to 4 KiB of printable ASCII without
// spaces. The message never echoes the value: it is a secret.
func ValidateToken(field, token string) error {
	if len(token) > 4096 {
		return Errorf(EINVALID, "%s is longer than 4096 characters", field)
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] > '~' {
			return Errorf(EINVALID, "%s must be printable ASCII without spaces", field)
		}
	}
	return nil
}

// uuidPattern is the canonical text form of a UUID.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidateUUID accepts "" or a UUID such as 8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33.
func ValidateUUID(field, s string) error {
	if s != "" && !uuidPattern.MatchString(s) {
		return Errorf(EINVALID, "%s must be a UUID such as 8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33", field)
	}
	return nil
}

// EventService stores events and answers questions about them.
type EventService interface {
	// CreateEvent stores a posted event and sets its ID and times; EINVALID
	// when the customer is unknown.
	CreateEvent(ctx context.Context, e *Event) error
	// CreateHubEvents stores events the hub generated. An event whose
	// DedupeKey is stored already is skipped; it returns the events stored.
	CreateHubEvents(ctx context.Context, events []*Event) ([]*Event, error)
	// FindEvents returns a customer's events, newest first.
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	// CountRecentEvents returns the error and warning counts per customer of
	// the events received at or after since; customers with none are absent.
	CountRecentEvents(ctx context.Context, since time.Time) (map[string]EventCounts, error)
}

// EventQueue is the durable queue of stored events not yet dispatched: every
// stored event is in it from the transaction that stored it.
type EventQueue interface {
	// FindUndispatchedEvents returns up to limit undispatched events, oldest
	// (lowest id) first.
	FindUndispatchedEvents(ctx context.Context, limit int) ([]*Event, error)
	// MarkEventDispatched takes an event off the queue.
	MarkEventDispatched(ctx context.Context, id int64) error
}

// EventDispatcher is the one hook every stored event goes through, posted or
// hub-generated (notifications implement it).
type EventDispatcher interface {
	DispatchEvent(ctx context.Context, e *Event) error
}

// JobRunService records when background jobs last ran, so that a job missed
// while the hub was down runs once at start-up.
type JobRunService interface {
	// FindJobRun returns the last recorded run of a job; ENOTFOUND when it
	// has never run.
	FindJobRun(ctx context.Context, job string) (time.Time, error)
	// RecordJobRun records a run of a job.
	RecordJobRun(ctx context.Context, job string, at time.Time) error
}

// BackupCheckService finds active nodes that did not post an expected event.
type BackupCheckService interface {
	// FindNodesMissingEvent returns, by id, the nodes known since before
	// since that are active (reported, not blocked, paused, DISABLED or
	// down) and have no event of eventType that occurred at or after since.
	FindNodesMissingEvent(ctx context.Context, eventType string, since time.Time) ([]string, error)
}

// PruneService deletes history older than the retention period.
type PruneService interface {
	// Prune deletes, step by step in small transactions, what is older than
	// before (never a customer's or a host's latest report) and the
	// rate-limit state that has expired by now.
	Prune(ctx context.Context, before time.Time) ([]PruneResult, error)
}

// PruneResult says how many rows one prune step deleted.
type PruneResult struct {
	Step    string
	Deleted int64
}
