package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// The customer page sections below are filled only when their plug is set.
// A failing plug leaves its section saying so instead of taking the page
// down.

// Section sizes.
const (
	eventsLimit        = 50
	notificationsLimit = 30
	auditLimit         = 20
)

// EventsView is the events timeline with its severity filter.
type EventsView struct {
	ID string
	// View is the page's state, for links that keep it.
	View        ViewState
	Severity    string
	Filters     []FilterLink
	Rows        []EventView
	Unavailable bool
}

// FilterLink is one choice of the severity filter.
type FilterLink struct {
	Value, Label string
	Active       bool
}

// EventView is one event of the timeline.
type EventView struct {
	// At and Ago are when the hub received it when the sender dated it in
	// the future (SentAt then holds the sender's date), else when it
	// happened.
	At, Ago                         string
	SentAt                          string
	Type, Severity, Source, Message string
	// UnknownType is true for a well-formed type the hub does not know.
	UnknownType bool
	// Problems are the fields of the posted event that could not be read.
	Problems hub.FieldProblems
}

// HostsView lists the customer's hosts and their guests.
type HostsView struct {
	Rows        []HostView
	Unavailable bool
}

// HostView is a host agent with its latest report.
type HostView struct {
	ID, Hostname, AgentVersion, PVEVersion string
	Status                                 hub.Status
	LastReport, LastReportAt               string
	CPU, Mem, Disk                         string
	Cloudflared                            string
	GuestsRunning, GuestsTotal             int
	Guests                                 []GuestView
	// Problems are the fields of the latest report that could not be read.
	Problems hub.FieldProblems
}

// GuestView is one guest (LXC) on a host.
type GuestView struct {
	VMID              int64
	Name, Status      string
	ControllerVersion string
	VersionOutdated   bool
}

// NotificationsView is the customer's notification choices and log.
type NotificationsView struct {
	// View is the page's state; View.Notifications the filter in use.
	View    ViewState
	Filters []FilterLink
	// Hidden counts the "not enabled" rows the default view leaves out.
	Hidden int
	// Prefs is nil until the controller has synced the customer's choices.
	Prefs       *PrefsView
	Rows        []NotificationView
	Unavailable bool
}

// PrefsView is what the customer chose on the controller.
type PrefsView struct {
	Email    string
	Events   []string
	Cooldown string
}

// NotificationView is one notification decision.
type NotificationView struct {
	When, Ago, Channel, EventType, Recipient, Status, Detail string
	// StatusClass colours the status: "logged, not sent" is no success.
	StatusClass string
	Attempts    int
}

// YAMLView is the generated controller.yaml with its secrets masked.
type YAMLView struct {
	Text        string
	Unavailable bool
}

// ControllerView holds the controller actions.
type ControllerView struct {
	ID string
	// CanAct is false for a viewer: no action control.
	CanAct bool
	// Reachable is true when the latest report names the controller's URL,
	// which every controller call needs.
	Reachable      bool
	CurrentVersion string
	// LatestVersion is the registry's newest; empty until it has been read.
	LatestVersion   string
	UpdateAvailable bool
	// LatestUnknown says why LatestVersion is empty: not read yet, or
	// failed and retried when.
	LatestUnknown string
	// URLRefused says why the reported URL is never called (its scheme).
	URLRefused string
}

// AuditView is the latest operator actions on the customer.
type AuditView struct {
	Rows        []AuditRow
	Unavailable bool
}

// AuditRow is one audit entry.
type AuditRow struct {
	When, Ago, Actor, Action, Result, Detail string
}

// severityFilters are the choices of the events filter.
var severityFilters = []FilterLink{{Value: "", Label: "All"}, {Value: hub.SeverityError, Label: "Errors"},
	{Value: hub.SeverityWarning, Label: "Warnings"}, {Value: hub.SeverityInfo, Label: "Info"}}

// plugSections fills the sections whose providers are the plugs.
// latest is the registry's newest controller version ("" when unknown).
func (s *Server) plugSections(ctx context.Context, r *http.Request, p *CustomerPage, c *hub.Customer, latest string) error {
	now := s.Now()
	ev, err := s.eventsView(ctx, p.ID, r.URL.Query().Get("severity"), now)
	if err != nil {
		return err
	}
	ev.View = p.View
	p.Events = ev
	p.Hosts = s.hostsView(ctx, p.ID, now, latest)
	if p.Notifications, err = s.notificationsView(ctx, p.View, now); err != nil {
		return err
	}
	if c.Managed {
		yv := &YAMLView{}
		text, err := s.Plugs.ConfigPreview.PreviewConfig(ctx, p.ID)
		if err != nil {
			s.logPlugError("config preview", p.ID, err)
			yv.Unavailable = true
		}
		yv.Text = string(text)
		p.YAML = yv
	}
	if c.Managed {
		cv := &ControllerView{ID: p.ID, Reachable: c.Latest != nil && c.Latest.ControllerURL != "", LatestVersion: latest}
		if latest == "" {
			cv.LatestUnknown = s.registryLatest()
		}
		if cv.Reachable {
			cv.URLRefused = refusedScheme(c.Latest.ControllerURL)
			cv.Reachable = cv.URLRefused == ""
		}
		if c.Latest != nil {
			cv.CurrentVersion = c.Latest.ControllerVersion
			cv.UpdateAvailable = hub.UpdateAvailable(cv.CurrentVersion, latest)
		}
		cv.CanAct = canAct(ctx)
		p.Controller = cv
	}
	p.Audit = s.auditView(ctx, p.ID, now)
	return nil
}

// eventsView reads the timeline; severity is "" (all) or one severity.
func (s *Server) eventsView(ctx context.Context, id, severity string, now time.Time) (*EventsView, error) {
	ev := &EventsView{ID: id, Severity: severity}
	known := false
	for _, f := range severityFilters {
		f.Active = f.Value == severity
		known = known || f.Active
		ev.Filters = append(ev.Filters, f)
	}
	if !known {
		return nil, hub.Errorf(hub.EINVALID, "The severity filter must be error, warning or info.")
	}
	filter := hub.EventFilter{CustomerID: id, Limit: eventsLimit}
	if severity != "" {
		filter.Severities = []string{severity}
	}
	events, err := s.Plugs.Events.FindEvents(ctx, filter)
	if err != nil {
		s.logPlugError("events", id, err)
		ev.Unavailable = true
	}
	shown := make([]time.Time, 0, len(events))
	for _, e := range events {
		at := eventTime(e)
		row := EventView{At: formatTime(at, s.Location), Ago: ago(now, at),
			Type: e.Type, Severity: e.Severity, Source: e.Source, Message: e.Message,
			UnknownType: !e.Known(), Problems: e.Problems}
		if !at.Equal(e.OccurredAt) {
			row.SentAt = formatTime(e.OccurredAt, s.Location)
		}
		ev.Rows = append(ev.Rows, row)
		shown = append(shown, at)
	}
	// Newest first by the time shown: a future-dated event sits at its
	// receipt, not on top of every later one.
	idx := make([]int, len(ev.Rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return shown[b].Compare(shown[a]) })
	sorted := make([]EventView, len(idx))
	for i, j := range idx {
		sorted[i] = ev.Rows[j]
	}
	ev.Rows = sorted
	return ev, nil
}

// handleEventsFragment serves the events section alone, for the severity
// filter to swap in without reloading the page.
func (s *Server) handleEventsFragment(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	c, err := s.Customers.FindCustomerByID(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ev, err := s.eventsView(r.Context(), id, r.URL.Query().Get("severity"), s.Now())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	period, err := historyPeriod(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ev.View = viewState(r, id, period)
	oob := ev.View
	oob.OOB = true
	s.render(w, r, http.StatusOK, "customer", "events-fragment",
		&StatusFragment{Reason: s.reasonView(c, s.Now()), View: oob, Events: ev})
}

func (s *Server) hostsView(ctx context.Context, id string, now time.Time, latest string) *HostsView {
	hv := &HostsView{}
	hosts, err := s.Plugs.Hosts.FindHosts(ctx, id)
	if err != nil {
		s.logPlugError("hosts", id, err)
		hv.Unavailable = true
	}
	for _, h := range hosts {
		v := HostView{ID: h.ID, Hostname: h.Hostname, AgentVersion: h.AgentVersion, PVEVersion: h.PVEVersion,
			Status: h.Status(now, s.HostThresholds)}
		if h.LastReportAt != nil {
			v.LastReport, v.LastReportAt = ago(now, *h.LastReportAt), formatTime(*h.LastReportAt, s.Location)
		}
		if l := h.Latest; l != nil {
			v.CPU, v.Mem, v.Disk = formatPercent(l.CPUPercent), formatPercent(l.MemPercent), formatPercent(l.DiskPercent)
			v.Cloudflared = l.CloudflaredStatus
			v.GuestsRunning, v.GuestsTotal = l.GuestRunning, l.GuestTotal
			v.Problems = l.Problems
		}
		for _, g := range h.Guests {
			v.Guests = append(v.Guests, GuestView{VMID: g.VMID, Name: g.Name, Status: g.Status,
				ControllerVersion: g.ControllerVersion, VersionOutdated: hub.UpdateAvailable(g.ControllerVersion, latest)})
		}
		hv.Rows = append(hv.Rows, v)
	}
	return hv
}

func (s *Server) notificationsView(ctx context.Context, view ViewState, now time.Time) (*NotificationsView, error) {
	id := view.ID
	nv := &NotificationsView{View: view}
	known := false
	for _, f := range notificationFilters {
		f.Active = f.Value == view.Notifications
		known = known || f.Active
		nv.Filters = append(nv.Filters, f)
	}
	if !known {
		return nil, hub.Errorf(hub.EINVALID, "The notifications filter must be sent, failed, skipped or all.")
	}
	prefs, err := s.Plugs.Notifications.FindNotificationPrefs(ctx, id)
	switch {
	case err == nil:
		pv := &PrefsView{Email: prefs.Email, Events: prefs.EnabledEvents, Cooldown: "hub default"}
		if prefs.CooldownHours != nil {
			pv.Cooldown = strconv.Itoa(*prefs.CooldownHours) + " h"
		}
		nv.Prefs = pv
	case hub.ErrorCode(err) != hub.ENOTFOUND:
		s.logPlugError("notification preferences", id, err)
		nv.Unavailable = true
	}
	filter := hub.NotificationFilter{CustomerID: id, Limit: notificationsLimit}
	switch view.Notifications {
	case "":
		// The default hides the "not enabled" rows, which say only that
		// nobody asked for mail about an event: read more to fill the page.
		filter.Limit = 4 * notificationsLimit
	case "all":
	default:
		filter.Status = view.Notifications
	}
	rows, err := s.Plugs.Notifications.FindNotifications(ctx, filter)
	if err != nil {
		s.logPlugError("notifications", id, err)
		nv.Unavailable = true
	}
	for _, n := range rows {
		if view.Notifications == "" && n.Status == hub.NotificationSkipped && n.Reason == hub.SkipNotEnabled {
			nv.Hidden++
			continue
		}
		if len(nv.Rows) == notificationsLimit {
			break
		}
		detail := n.Reason
		if n.Error != "" {
			detail = n.Error
		}
		status, class := n.Status, wordClass(n.Status)
		if n.Status == hub.NotificationSent && s.Mail.logsOnly() {
			// The log provider "sends" by writing the mail to the log.
			status, class = "logged, not sent", "warn"
		}
		nv.Rows = append(nv.Rows, NotificationView{When: formatTime(n.CreatedAt, s.Location), Ago: ago(now, n.CreatedAt), Channel: n.Channel,
			EventType: n.EventType, Recipient: n.Recipient, Status: status, StatusClass: class, Detail: strings.ReplaceAll(detail, "_", " "),
			Attempts: n.Attempts})
	}
	return nv, nil
}

// notificationFilters are the choices of the notifications filter; the
// default ("") hides "not enabled" rows.
var notificationFilters = []FilterLink{{Value: "", Label: "Relevant"}, {Value: hub.NotificationSent, Label: "Sent"},
	{Value: hub.NotificationFailed, Label: "Failed"}, {Value: hub.NotificationSkipped, Label: "Skipped"}, {Value: "all", Label: "All"}}

// eventTime is when the page places an event: when it happened, unless the
// sender dated it after the hub received it.
func eventTime(e *hub.Event) time.Time {
	if !e.ReceivedAt.IsZero() && e.OccurredAt.After(e.ReceivedAt) {
		return e.ReceivedAt
	}
	return e.OccurredAt
}

func (s *Server) auditView(ctx context.Context, id string, now time.Time) *AuditView {
	av := &AuditView{}
	entries, err := s.Plugs.Audit.FindAuditEntries(ctx, hub.AuditFilter{CustomerID: id, Limit: auditLimit})
	if err != nil {
		s.logPlugError("audit", id, err)
		av.Unavailable = true
	}
	for _, e := range entries {
		av.Rows = append(av.Rows, AuditRow{When: formatTime(e.At, s.Location), Ago: ago(now, e.At),
			Actor: e.Actor, Action: e.Action, Result: e.Result, Detail: e.Detail})
	}
	return av
}

// latestVersion is the registry's newest controller version, or "" when
// unknown.
func (s *Server) latestVersion(ctx context.Context) string {
	v, err := s.Plugs.Versions.FindLatestControllerVersion(ctx)
	if err != nil {
		if hub.ErrorCode(err) != hub.ENOTFOUND {
			s.logPlugError("versions", "", err)
		}
		return ""
	}
	return v.Version
}

// knownSeverity reports whether s is a choice of the events filter.
func knownSeverity(s string) bool {
	for _, f := range severityFilters {
		if f.Value == s {
			return true
		}
	}
	return false
}

// refusedScheme explains why the hub never calls a controller URL whose
// scheme is not http or https (javascript:, file:, …); "" when it may.
func refusedScheme(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "The controller reported a URL the hub cannot read, so the hub does not call it."
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		if scheme == "" {
			return "The controller reported a URL without a scheme, so the hub does not call it: it calls only https (or http) URLs."
		}
		return "The controller reported a " + scheme + ": URL; the hub calls only https (or http) URLs, so it refuses this one for its scheme."
	}
	return ""
}
