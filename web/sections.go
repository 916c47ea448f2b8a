package web

import (
	"context"
	"net/http"

	hub "github.com/felhom/hub"
)

// The customer page sections below are filled only when their plug is set.

// eventsLimit is how many events the timeline shows.
const eventsLimit = 50

// EventsView is the events timeline with its severity filter.
type EventsView struct {
	ID          string
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
	At, Ago                         string
	Type, Severity, Source, Message string
}

// HostsView lists the customer's hosts and their guests.
type HostsView struct {
	Rows        []HostView
	Unavailable bool
}

// HostView is a host with its report age.
type HostView struct {
	HostRow
	LastReport string
	CPU        string
	Mem        string
	Disk       string
}

// NotificationsView is the customer's notification log.
type NotificationsView struct {
	Rows        []NotificationView
	Unavailable bool
}

// NotificationView is one notification decision.
type NotificationView struct {
	NotificationRow
	When string
}

// YAMLView is the generated controller.yaml.
type YAMLView struct {
	Text        string
	Unavailable bool
}

// ControllerView holds the controller actions.
type ControllerView struct {
	ID string
	// Reachable is true when the latest report names the controller's URL,
	// which every controller call needs.
	Reachable     bool
	LatestVersion string
}

// severityFilters are the choices of the events filter.
var severityFilters = []FilterLink{{Value: "", Label: "All"}, {Value: "error", Label: "Errors"},
	{Value: "warning", Label: "Warnings"}, {Value: "info", Label: "Info"}}

// plugSections fills the sections whose providers are plugged in.
func (s *Server) plugSections(ctx context.Context, r *http.Request, p *CustomerPage, c *hub.Customer) error {
	now := s.Now()
	if src := s.Plugs.Events; src != nil {
		severity := r.URL.Query().Get("severity")
		known := false
		ev := &EventsView{ID: p.ID, Severity: severity}
		for _, f := range severityFilters {
			f.Active = f.Value == severity
			known = known || f.Active
			ev.Filters = append(ev.Filters, f)
		}
		if !known {
			return hub.Errorf(hub.EINVALID, "The severity filter must be error, warning or info.")
		}
		rows, err := src.FindRecentEvents(ctx, p.ID, severity, eventsLimit)
		if err != nil {
			s.logPlugError("events", p.ID, err)
			ev.Unavailable = true
		}
		for _, e := range rows {
			ev.Rows = append(ev.Rows, EventView{At: formatTime(e.OccurredAt, s.Location), Ago: ago(now, e.OccurredAt),
				Type: e.Type, Severity: e.Severity, Source: e.Source, Message: e.Message})
		}
		p.Events = ev
	}
	if src := s.Plugs.Hosts; src != nil {
		hv := &HostsView{}
		rows, err := src.FindCustomerHosts(ctx, p.ID)
		if err != nil {
			s.logPlugError("hosts", p.ID, err)
			hv.Unavailable = true
		}
		for _, h := range rows {
			v := HostView{HostRow: h, CPU: formatPercent(h.CPUPercent), Mem: formatPercent(h.MemPercent), Disk: formatPercent(h.DiskPercent)}
			if h.LastReportAt != nil {
				v.LastReport = ago(now, *h.LastReportAt)
			}
			hv.Rows = append(hv.Rows, v)
		}
		p.Hosts = hv
	}
	if src := s.Plugs.Notifications; src != nil {
		nv := &NotificationsView{}
		rows, err := src.FindCustomerNotifications(ctx, p.ID, eventsLimit)
		if err != nil {
			s.logPlugError("notifications", p.ID, err)
			nv.Unavailable = true
		}
		for _, n := range rows {
			nv.Rows = append(nv.Rows, NotificationView{NotificationRow: n, When: formatTime(n.At, s.Location)})
		}
		p.Notifications = nv
	}
	if src := s.Plugs.ConfigPreview; src != nil && c.Managed {
		yv := &YAMLView{}
		text, err := src.GenerateControllerYAML(ctx, p.ID)
		if err != nil {
			s.logPlugError("config preview", p.ID, err)
			yv.Unavailable = true
		}
		yv.Text = string(text)
		p.YAML = yv
	}
	if s.Plugs.Controller != nil && c.Managed {
		cv := &ControllerView{ID: p.ID, Reachable: c.Latest != nil && c.Latest.ControllerURL != ""}
		if s.Plugs.Versions != nil {
			cv.LatestVersion, _ = s.Plugs.Versions.LatestControllerVersion()
		}
		p.Controller = cv
	}
	return nil
}
