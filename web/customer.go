package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	hub "github.com/felhom/hub"
)

// The shapes of the customer page (README v0.3.5, "Customer States").
const (
	ShapeReporting = "reporting" // managed, has reported: the full view
	ShapeWaiting   = "waiting"   // managed, no report yet
	ShapeManual    = "manual"    // report-only, no config
)

// CustomerPage is /customers/{id}: one page that adapts to the customer.
type CustomerPage struct {
	Page
	// Alerting is the open problems, silences and their controls.
	Alerting *CustomerAlerting
	ID       string
	Name     string
	Status   hub.Status
	Managed  bool
	Blocked  bool
	Shape    string

	Config      *ConfigView
	Credentials *CredentialsView
	Setup       *SetupView
	Report      *ReportView
	History     *HistoryView

	// Sections fed by plugs; nil while their provider is absent.
	Events        *EventsView
	Hosts         *HostsView
	Notifications *NotificationsView
	YAML          *YAMLView
	Controller    *ControllerView
	Audit         *AuditView
	DR            *DRSectionView
	// KeyState warns of a key rotation the node has not caught up with
	// and of refused reports; nil when there is neither.
	KeyState *KeyStateView
	// KeyRotationGrace is how long a rotated-out key stays valid.
	KeyRotationGrace string

	// Reason is the status with why and since when.
	Reason *ReasonView
	// View is the page's state in its URL (chart period, filters).
	View ViewState
}

// ConfigView is the managed config as the page shows it.
type ConfigView struct {
	DisplayName      string
	Domain           string
	Status           string
	MonitoringPaused bool
	StaleThreshold   string
	DownThreshold    string
	CreatedAt        string
	UpdatedAt        string
	// TunnelTokenSet says whether a Cloudflare tunnel token is stored; the
	// token itself is never on a page.
	TunnelTokenSet      bool
	LegacyHeartbeatUUID string
	LegacyBackupUUID    string
	OverridesYAML       string
}

// CredentialsView holds the secrets the controller needs; the page keeps
// them folded until the operator opens them.
type CredentialsView struct {
	APIKey            string
	RetrievalPassword string
}

// SetupView is what a new node needs to report to this hub.
type SetupView struct {
	HubURL     string
	CustomerID string
	APIKey     string
	// ConfigURL is where the node fetches its generated controller.yaml,
	// RecoveryURL its disaster-recovery bundle; empty until config
	// generation is plugged in.
	ConfigURL         string
	RecoveryURL       string
	RetrievalPassword string
}

// ReportView is the latest report, with every controller-supplied string
// left as plain text for html/template to escape.
type ReportView struct {
	ReceivedAgo       string
	ReceivedAt        string
	ReportedAt        string
	ControllerVersion string
	VersionOutdated   bool
	// ControllerLink is the controller URL when it is http(s); otherwise
	// ControllerURL shows it as text only.
	ControllerLink    string
	ControllerURL     string
	Health            string
	MonitoringEnabled bool
	// Unreadable is true when the stored body could not be decoded; the
	// summary fields still show.
	Unreadable bool

	System     *SystemView
	Storage    []StorageRow
	Containers []ContainerRow
	Running    int
	Backups    *BackupsView
	Checks     []hub.ReportCheck
	// Problems are the fields of the report the hub could not read.
	Problems hub.FieldProblems
	// MetricsAge is the age of a silent node's report ("2 h old"): its
	// figures are greyed; empty while the node reports on time.
	MetricsAge string
}

// SystemView is the system section of a report.
type SystemView struct {
	Hostname string
	OS       string
	Uptime   string
	CPU      string
	CPULevel string
	Load1    string
	Mem      string
	MemLevel string
	MemUsage string
}

// StorageRow is one disk of a report.
type StorageRow struct {
	Mount, Label, Role string
	Used, Total        string
	Percent            string
	Fraction           float64
	Level              string
}

// MeterLow and MeterHigh are the meter's bounds: the usage thresholds.
func (StorageRow) MeterLow() float64 { return hub.UsageWarnPercent / 100 }

// MeterHigh is the critical usage as a fraction.
func (StorageRow) MeterHigh() float64 { return hub.UsageCritPercent / 100 }

// ContainerRow is one container of a report.
type ContainerRow struct {
	Name, App, Image, State, Health string
	// Bad is true when the container is not running or not healthy.
	Bad bool
}

// BackupsView is the backups section of a report.
type BackupsView struct {
	LastBackupAt     string
	LastBackupAgo    string
	LastBackupStatus string
	LastDBDumpAt     string
	LastDBDumpAgo    string
	LastDBDumpStatus string
	Repository       string
	// Overdue is true when the backup (dump) is older than the backup
	// checker's schedule allows: whatever the node said, it is not ok.
	BackupOverdue bool
	DBDumpOverdue bool
}

// customerID reads and checks the {id} of the path.
func customerID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if hub.ValidateCustomerID(id) != nil {
		return "", hub.Errorf(hub.ENOTFOUND, "There is no customer %q.", id)
	}
	return id, nil
}

func (s *Server) handleCustomerShow(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	period, err := historyPeriod(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page, err := s.customerPage(r.Context(), r, id, period)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page.Page = s.page(w, r, page.Name, "customers")
	page.Alerting = s.customerAlerting(r.Context(), id)
	s.render(w, r, http.StatusOK, "customer", "", page)
}

// customerPage gathers everything the customer page shows.
func (s *Server) customerPage(ctx context.Context, r *http.Request, id, period string) (*CustomerPage, error) {
	c, err := s.Customers.FindCustomerByID(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	p := &CustomerPage{
		ID:      c.ID,
		Name:    c.ID,
		Status:  c.Status(now, s.Thresholds),
		Managed: c.Managed,
		Blocked: c.Blocked,
		Reason:  s.reasonView(c, now),
		View:    viewState(r, id, period),
	}
	switch {
	case !c.Managed:
		p.Shape = ShapeManual
	case c.Latest == nil:
		p.Shape = ShapeWaiting
	default:
		p.Shape = ShapeReporting
	}
	if c.DisplayName != "" {
		p.Name = c.DisplayName
	}

	var cfg *hub.CustomerConfig
	if c.Managed {
		if cfg, err = s.Customers.FindCustomerConfig(ctx, id); err != nil {
			return nil, err
		}
		p.Config = s.configView(cfg)
		p.Credentials = &CredentialsView{APIKey: cfg.APIKey, RetrievalPassword: cfg.RetrievalPassword}
		p.Setup = &SetupView{HubURL: s.hubURL(r), CustomerID: id, APIKey: cfg.APIKey}
		p.Setup.ConfigURL = s.hubURL(r) + "/api/v1/config/" + id
		p.Setup.RecoveryURL = s.hubURL(r) + "/api/v1/recovery/" + id
		p.Setup.RetrievalPassword = cfg.RetrievalPassword
		hideSecretsFromViewer(ctx, p)
	}

	latestVersion := s.latestVersion(ctx)
	if c.Latest != nil {
		latest, err := s.Reports.FindLatestReport(ctx, id)
		if err != nil {
			return nil, err
		}
		p.Report = s.reportView(latest, now, latestVersion)
		p.Report.MetricsAge = s.staleAge(c, now)
		if p.History, err = s.historyView(ctx, id, period, now); err != nil {
			return nil, err
		}
		p.History.View = p.View
	}
	if err := s.plugSections(ctx, r, p, c, latestVersion); err != nil {
		return nil, err
	}
	p.KeyState = s.keyStateView(ctx, c, cfg, now)
	p.DR = s.drSection(ctx, c, now)
	if s.KeyRotationGrace > 0 {
		p.KeyRotationGrace = formatThreshold(s.KeyRotationGrace)
	}
	return p, nil
}

func (s *Server) configView(cfg *hub.CustomerConfig) *ConfigView {
	orDefault := func(d, def time.Duration) string {
		if d > 0 {
			return formatThreshold(d)
		}
		return formatThreshold(def) + " (hub default)"
	}
	return &ConfigView{
		DisplayName:      cfg.DisplayName,
		Domain:           cfg.Domain,
		Status:           cfg.Status,
		MonitoringPaused: cfg.MonitoringPaused,
		StaleThreshold:   orDefault(cfg.StaleThreshold, s.Thresholds.Stale),
		DownThreshold:    orDefault(cfg.DownThreshold, s.Thresholds.Down),
		CreatedAt:        formatTime(cfg.CreatedAt, s.Location),
		UpdatedAt:        formatTime(cfg.UpdatedAt, s.Location),

		TunnelTokenSet:      cfg.CloudflareTunnelToken != "",
		LegacyHeartbeatUUID: cfg.LegacyHeartbeatUUID,
		LegacyBackupUUID:    cfg.LegacyBackupUUID,
		OverridesYAML:       cfg.OverridesYAML,
	}
}

// reportView decodes the stored body for the sections the summary lacks.
func (s *Server) reportView(stored *hub.StoredReport, now time.Time, latestVersion string) *ReportView {
	sum := stored.Summary
	v := &ReportView{
		ReceivedAgo:       ago(now, sum.ReceivedAt),
		ReceivedAt:        formatTime(sum.ReceivedAt, s.Location),
		ControllerVersion: sum.ControllerVersion,
		VersionOutdated:   hub.UpdateAvailable(sum.ControllerVersion, latestVersion),
		ControllerURL:     sum.ControllerURL,
		ControllerLink:    httpLink(sum.ControllerURL),
		Health:            sum.Health,
		MonitoringEnabled: sum.MonitoringEnabled,
	}
	if sum.ReportedAt != nil {
		v.ReportedAt = formatTime(*sum.ReportedAt, s.Location)
	}
	v.Problems = stored.Problems
	// The same tolerant reader as at ingest: what it could not read then,
	// it leaves out now.
	rep, err := hub.ParseReport(stored.Body, sum.ReceivedAt)
	if err != nil {
		v.Unreadable = true
		return v
	}
	if sys := rep.System; sys != nil {
		v.System = &SystemView{
			Hostname: sys.Hostname,
			OS:       sys.OS,
			Uptime:   formatUptime(sys.UptimeSeconds),
			CPU:      "–", // unless the report said, readably
			Load1:    formatFloat(sys.Load1),
			Mem:      "–",
		}
		if sys.HasCPU {
			v.System.CPU, v.System.CPULevel = formatPercent(sys.CPUPercent), usageLevel(sys.CPUPercent)
		}
		if sys.HasMem {
			v.System.Mem, v.System.MemLevel = formatPercent(sys.MemPercent), usageLevel(sys.MemPercent)
			v.System.MemUsage = humanBytes(sys.MemUsedBytes) + " of " + humanBytes(sys.MemTotalBytes)
		}
	}
	for _, st := range rep.Storage {
		row := StorageRow{Mount: st.Mount, Label: st.Label, Role: st.Role,
			Used: humanBytes(st.UsedBytes), Total: humanBytes(st.TotalBytes)}
		if st.HasPercent {
			pct := st.Percent
			row.Percent, row.Fraction, row.Level = formatPercent(pct), st.UsedBytes/st.TotalBytes, usageLevel(pct)
		}
		v.Storage = append(v.Storage, row)
	}
	for _, ct := range rep.Containers {
		bad := ct.State != "running" || (ct.Health != "" && ct.Health != "healthy")
		if ct.State == "running" {
			v.Running++
		}
		v.Containers = append(v.Containers, ContainerRow{Name: ct.Name, App: ct.App, Image: ct.Image,
			State: ct.State, Health: ct.Health, Bad: bad})
	}
	if b := rep.Backups; b != nil {
		bv := &BackupsView{LastBackupStatus: b.LastBackupStatus, LastDBDumpStatus: b.LastDBDumpStatus,
			BackupOverdue: s.Backups.Overdue(b.LastBackupAt, now), DBDumpOverdue: s.Backups.Overdue(b.LastDBDumpAt, now)}
		if t := b.LastBackupAt; t != nil {
			bv.LastBackupAt, bv.LastBackupAgo = formatTime(*t, s.Location), ago(now, *t)
		}
		if t := b.LastDBDumpAt; t != nil {
			bv.LastDBDumpAt, bv.LastDBDumpAgo = formatTime(*t, s.Location), ago(now, *t)
		}
		if b.RepositoryBytes > 0 {
			bv.Repository = humanBytes(b.RepositoryBytes)
		}
		v.Backups = bv
	}
	v.Checks = rep.Checks
	return v
}

// httpLink returns raw when it is an absolute http(s) URL, "" otherwise,
// so that a controller cannot plant a javascript: link.
func httpLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// HistoryView is the chart section with its period switch.
type HistoryView struct {
	ID string
	// View is the page's state, for links that keep it.
	View    ViewState
	Period  string
	Periods []PeriodLink
	Chart   Chart
}

// PeriodLink is one choice of the period switch.
type PeriodLink struct {
	Value, Label string
	Active       bool
}

// historyPeriods are the periods the chart offers.
var historyPeriods = []PeriodLink{{Value: "24h", Label: "24 h"}, {Value: "7d", Label: "7 d"}, {Value: "30d", Label: "30 d"}}

// historyPeriod reads ?period=, one of historyPeriods; 24h when absent.
func historyPeriod(r *http.Request) (string, error) {
	p := r.URL.Query().Get("period")
	if p == "" {
		return "24h", nil
	}
	for _, hp := range historyPeriods {
		if hp.Value == p {
			return p, nil
		}
	}
	return "", hub.Errorf(hub.EINVALID, "The history period must be 24h, 7d or 30d.")
}

func (s *Server) historyView(ctx context.Context, id, period string, now time.Time) (*HistoryView, error) {
	d, err := hub.ParsePeriod(period)
	if err != nil {
		return nil, err
	}
	f := s.Tiers.Filter(hub.StreamReports, id, d, now)
	points, err := s.History.FindMetrics(ctx, f)
	if err != nil {
		return nil, err
	}
	h := &HistoryView{ID: id, Period: period, Chart: buildChart(points, f.Since, now, s.Location)}
	for _, hp := range historyPeriods {
		hp.Active = hp.Value == period
		h.Periods = append(h.Periods, hp)
	}
	return h, nil
}

// handleHistoryFragment serves the history section alone, for the period
// switch to swap in without reloading the page.
func (s *Server) handleHistoryFragment(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	period, err := historyPeriod(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	c, err := s.Customers.FindCustomerByID(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	h, err := s.historyView(r.Context(), id, period, s.Now())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if sev := r.URL.Query().Get("severity"); !knownSeverity(sev) {
		s.renderError(w, r, hub.Errorf(hub.EINVALID, "The severity filter must be error, warning or info."))
		return
	}
	h.View = viewState(r, id, period)
	oob := h.View
	oob.OOB = true
	s.render(w, r, http.StatusOK, "customer", "history-fragment",
		&StatusFragment{Reason: s.reasonView(c, s.Now()), View: oob, History: h})
}

// logPlugError records a failing plug; its section then says so instead
// of taking the whole page down.
func (s *Server) logPlugError(plug, id string, err error) {
	s.Logger.Error("dashboard section unavailable", "plug", plug, "customer_id", id, slog.Any("error", err))
}
