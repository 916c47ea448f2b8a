package web

import (
	"context"
	"time"
)

// Plugs are the providers of features that other parts of the hub supply.
// Each is optional: while a provider is nil its section is not rendered and
// its routes answer 404, so the dashboard never shows a feature that is not
// there. cmd/hub sets them as the features land.
type Plugs struct {
	// Events feeds the error and warning counts of the dashboard and the
	// events timeline of the customer page.
	Events EventSource
	// Hosts feeds the hosts and guests section of the customer page.
	Hosts HostSource
	// Notifications feeds the notification log of the customer page.
	Notifications NotificationSource
	// ConfigPreview feeds the YAML preview and the config download step.
	ConfigPreview ConfigPreviewer
	// Controller adds Push Config, Pull Config, Show Diff and Trigger Update.
	Controller ControllerClient
	// Versions marks controllers older than the registry's latest.
	Versions VersionSource
}

// EventCounts are a customer's warning and error events over a period.
type EventCounts struct {
	Errors   int
	Warnings int
}

// EventRow is one event as the timeline shows it.
type EventRow struct {
	OccurredAt time.Time
	Type       string
	Severity   string // info, warning or error
	Source     string // controller or hub
	Message    string
}

// EventSource reads stored events.
type EventSource interface {
	// CountRecentEvents returns the error and warning counts per customer
	// id of the events that occurred at or after since.
	CountRecentEvents(ctx context.Context, since time.Time) (map[string]EventCounts, error)
	// FindRecentEvents returns up to limit of the customer's latest events,
	// newest first; an empty severity means every severity.
	FindRecentEvents(ctx context.Context, customerID, severity string, limit int) ([]EventRow, error)
}

// HostRow is one host agent of a customer with its guests.
type HostRow struct {
	ID           string
	Hostname     string
	AgentVersion string
	// LastReportAt is nil before the host's first report.
	LastReportAt *time.Time
	CPUPercent   float64
	MemPercent   float64
	DiskPercent  float64
	Cloudflared  string
	Guests       []GuestRow
}

// GuestRow is one guest (LXC) on a host.
type GuestRow struct {
	VMID              int
	Name              string
	Status            string
	ControllerVersion string
}

// HostSource lists the hosts of a customer.
type HostSource interface {
	FindCustomerHosts(ctx context.Context, customerID string) ([]HostRow, error)
}

// NotificationRow is one notification decision.
type NotificationRow struct {
	At        time.Time
	Channel   string // operator or customer
	EventType string
	Outcome   string // sent, skipped or failed
	Detail    string // the skip reason or the error
}

// NotificationSource lists the notification log of a customer.
type NotificationSource interface {
	// FindCustomerNotifications returns up to limit entries, newest first.
	FindCustomerNotifications(ctx context.Context, customerID string, limit int) ([]NotificationRow, error)
}

// ConfigPreviewer renders the controller.yaml the hub serves a customer.
type ConfigPreviewer interface {
	GenerateControllerYAML(ctx context.Context, customerID string) ([]byte, error)
}

// ConfigDiff is one key whose value differs between the hub's generated
// config and the controller's live one.
type ConfigDiff struct {
	Key string
	// Hub and Controller are the values; Missing* say the key is absent
	// on that side.
	Hub               string
	Controller        string
	MissingHub        bool
	MissingController bool
}

// ControllerClient makes the calls the hub sends to a controller.
type ControllerClient interface {
	// PushConfig sends the generated config to the controller.
	PushConfig(ctx context.Context, customerID string) error
	// PullConfig imports the controller's live config into the hub's.
	PullConfig(ctx context.Context, customerID string) error
	// DiffConfig compares the generated config with the live one.
	DiffConfig(ctx context.Context, customerID string) ([]ConfigDiff, error)
	// TriggerUpdate asks the controller to update to the latest version
	// and returns that version.
	TriggerUpdate(ctx context.Context, customerID string) (string, error)
}

// VersionSource knows the latest controller version in the registry.
type VersionSource interface {
	// LatestControllerVersion returns the newest version; ok is false
	// until the registry has been read.
	LatestControllerVersion() (version string, ok bool)
}
