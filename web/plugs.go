package web

import (
	"context"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleet"
)

// Plugs are the providers of features that other parts of the hub supply;
// every one is required (Handler refuses to start without it; tests plug
// the store and the fleet service in as cmd/hub does). The interfaces are
// the slices of the hub's services each section reads. A provider that
// fails leaves its section saying so, never the page down.
type Plugs struct {
	// Events feeds the error and warning counts of the dashboard and the
	// events timeline of the customer page.
	Events EventSource
	// Hosts feeds the hosts and guests section of the customer page.
	Hosts HostSource
	// Notifications feeds the notification section of the customer page.
	Notifications NotificationSource
	// ConfigPreview feeds the YAML preview and the config download step.
	ConfigPreview ConfigPreviewer
	// Controller adds Push Config, Pull Config, Show Diff and Trigger Update.
	Controller ControllerClient
	// Versions marks controllers older than the registry's latest.
	Versions VersionSource
	// Audit feeds the audit section of the customer page.
	Audit AuditSource
	// RefusedReports feeds the count of refused reports on the customer
	// page (hub.RefusedReportService).
	RefusedReports RefusedReportSource
}

// missing names the plugs that are nil.
func (p Plugs) missing() []string {
	var out []string
	for _, plug := range []struct {
		name string
		set  bool
	}{
		{"Events", p.Events != nil}, {"Hosts", p.Hosts != nil}, {"Notifications", p.Notifications != nil},
		{"ConfigPreview", p.ConfigPreview != nil}, {"Controller", p.Controller != nil},
		{"Versions", p.Versions != nil}, {"Audit", p.Audit != nil}, {"RefusedReports", p.RefusedReports != nil},
	} {
		if !plug.set {
			out = append(out, plug.name)
		}
	}
	return out
}

// Actions are the operator's state-changing actions on customer configs.
// Every dashboard change goes through them so that the audit log records
// it; *fleet.Service implements them. actor names who acted.
type Actions interface {
	CreateConfig(ctx context.Context, actor string, cfg *hub.CustomerConfig) error
	CreateConfigFromReport(ctx context.Context, actor, id string) (*hub.CustomerConfig, error)
	UpdateConfig(ctx context.Context, actor, id string, update func(*hub.CustomerConfig) error) (*hub.CustomerConfig, error)
	DeleteConfig(ctx context.Context, actor, id string) error
	SetBlocked(ctx context.Context, actor, id string, blocked bool) error
	RotateKey(ctx context.Context, actor, id string) (string, error)
	RotateRetrievalPassword(ctx context.Context, actor, id string) (string, error)
}

// CustomerReader reads customers and their configs; the dashboard changes
// them only through Actions.
type CustomerReader interface {
	FindCustomers(ctx context.Context) ([]*hub.Customer, error)
	// ListFleet is the fleet listing the dashboard's table is built from.
	ListFleet(ctx context.Context) (*hub.Fleet, error)
	FindCustomerByID(ctx context.Context, id string) (*hub.Customer, error)
	FindCustomerConfig(ctx context.Context, id string) (*hub.CustomerConfig, error)
}

// ReportReader reads stored reports.
type ReportReader interface {
	FindLatestReport(ctx context.Context, customerID string) (*hub.StoredReport, error)
}

// EventSource reads stored events (hub.EventService).
type EventSource interface {
	// CountRecentEvents returns the error and warning counts per customer
	// of the events received at or after since.
	CountRecentEvents(ctx context.Context, since time.Time) (map[string]hub.EventCounts, error)
	// FindEvents returns a customer's events, newest first.
	FindEvents(ctx context.Context, f hub.EventFilter) ([]*hub.Event, error)
}

// HostSource lists the hosts of a customer with their guests
// (hub.HostService).
type HostSource interface {
	FindHosts(ctx context.Context, customerID string) ([]*hub.Host, error)
}

// NotificationSource reads a customer's notification preferences and log
// (hub.NotificationService).
type NotificationSource interface {
	// FindNotificationPrefs returns ENOTFOUND when the customer has none.
	FindNotificationPrefs(ctx context.Context, customerID string) (*hub.NotificationPrefs, error)
	FindNotifications(ctx context.Context, f hub.NotificationFilter) ([]*hub.Notification, error)
}

// ConfigPreviewer renders the controller.yaml the hub serves a customer,
// with its secrets masked.
type ConfigPreviewer interface {
	PreviewConfig(ctx context.Context, customerID string) ([]byte, error)
}

// ControllerClient makes the calls the hub sends to a controller; each is
// audited under actor (*fleet.Service).
type ControllerClient interface {
	// Push sends the generated config to the controller.
	Push(ctx context.Context, actor, id string) (*fleet.PushResult, error)
	// Pull imports the controller's live config into the hub's.
	Pull(ctx context.Context, actor, id string) (*fleet.PullResult, error)
	// Diff compares the generated config with the live one.
	Diff(ctx context.Context, actor, id string) (*fleet.DiffResult, error)
	// TriggerUpdate asks the controller to update to version, or to the
	// registry's latest when version is "".
	TriggerUpdate(ctx context.Context, actor, id, version string) (*fleet.UpdateResult, error)
}

// VersionSource knows the latest controller version in the registry
// (hub.VersionService).
type VersionSource interface {
	// FindLatestControllerVersion returns ENOTFOUND until the registry has
	// been read.
	FindLatestControllerVersion(ctx context.Context) (*hub.ControllerVersion, error)
}

// RefusedReportSource sums the reports refused for a customer since a time.
type RefusedReportSource interface {
	FindRefusedReports(ctx context.Context, customerID string, since time.Time) (hub.RefusedReports, error)
}

// AuditSource reads the audit log (hub.AuditService).
type AuditSource interface {
	FindAuditEntries(ctx context.Context, f hub.AuditFilter) ([]*hub.AuditEntry, error)
}

// Compile-time checks that the fleet service is what the dashboard needs.
var (
	_ Actions          = (*fleet.Service)(nil)
	_ ControllerClient = (*fleet.Service)(nil)
	_ ConfigPreviewer  = (*fleet.Service)(nil)
)
