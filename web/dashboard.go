package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	hub "github.com/felhom/hub"
)

// CustomerRow is one customer in the fleet table and the customers list.
type CustomerRow struct {
	ID string
	// Name is the display name; empty for manual customers.
	Name    string
	Domain  string
	Managed bool
	Blocked bool
	Status  hub.Status
	// Version is the controller version of the latest report.
	Version         string
	VersionOutdated bool
	// LastReport is the age of the latest report ("3 min ago"), empty
	// when there is none; LastReportAt is its time.
	LastReport   string
	LastReportAt string
	CPU          string
	Mem          string
	Disk         string
	DiskLevel    string
	CPULevel     string
	MemLevel     string
	// MetricsAge is the age of the metrics of a silent node ("2 h old"):
	// they are shown greyed, never as if current. Empty while it reports.
	MetricsAge string
	// Reason says why the status and since when; empty for an OK row
	// with nothing to say.
	Reason     string
	ReasonCode hub.ReasonCode
	Containers string
	// ContainersDown is true when some containers are not running.
	ContainersDown bool
	// Events holds the error and warning counts of the last 24 h; nil when
	// no event source is plugged in.
	Events *hub.EventCounts
	// Silenced is true while a silence of the whole customer is active;
	// AckedBy names who acknowledged its open problem.
	Silenced bool
	AckedBy  string
}

// StatusCount is how many customers have a status.
type StatusCount struct {
	Status hub.Status
	Count  int
}

// FleetTable is the dashboard's table, also served alone for the refresh.
type FleetTable struct {
	Rows   []CustomerRow
	Counts []StatusCount
	// ShowEvents is true when an event source is plugged in.
	ShowEvents        bool
	EventsUnavailable bool
	UpdatedAt         string
	// LatestVersion is the registry's newest controller version; empty
	// when unknown.
	LatestVersion string
	// HiddenOK counts the OK customers left out of a large fleet's table;
	// ShowAll is true when the operator asked for every row.
	HiddenOK int
	ShowAll  bool
}

// okRowLimit caps the OK rows of the fleet table: problems are always all
// shown, but rendering ten thousand healthy rows every minute costs the
// hub a second and tells the operator nothing. ?all=1 shows every row.
const okRowLimit = 200

// DashboardPage is the fleet overview at /.
type DashboardPage struct {
	Page
	Fleet FleetTable
}

// statusRank orders the fleet table: problems first.
var statusRank = map[hub.Status]int{
	hub.StatusDown: 0, hub.StatusWarn: 1, hub.StatusOK: 2,
	hub.StatusDisabled: 3, hub.StatusPending: 4, hub.StatusBlocked: 5,
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	fleet, err := s.fleetTable(r.Context(), r.URL.Query().Get("all") == "1")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard", "", &DashboardPage{
		Page:  s.page(w, r, "Dashboard", "dashboard"),
		Fleet: fleet,
	})
}

// handleFleetFragment serves the fleet table alone: htmx swaps it in every
// 60 seconds.
func (s *Server) handleFleetFragment(w http.ResponseWriter, r *http.Request) {
	fleet, err := s.fleetTable(r.Context(), r.URL.Query().Get("all") == "1")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard", "fleet", &fleet)
}

// fleetTable builds the dashboard's table: every customer but the blocked
// ones, problems first. The listing is in id order, so the rows are picked
// in one pass, a list per status rank, and only the rows shown are built.
func (s *Server) fleetTable(ctx context.Context, all bool) (FleetTable, error) {
	fl, err := s.Customers.ListFleet(ctx)
	if err != nil {
		return FleetTable{}, err
	}
	now := s.Now()
	t := FleetTable{UpdatedAt: now.In(s.Location).Format("15:04:05"), ShowEvents: true,
		LatestVersion: s.latestVersion(ctx), ShowAll: all}
	var counts map[string]hub.EventCounts
	if t.ShowEvents {
		if counts, err = s.Plugs.Events.CountRecentEvents(ctx, now.Add(-24*time.Hour)); err != nil {
			s.Logger.Error("count recent events", slog.Any("error", err))
			t.ShowEvents, t.EventsUnavailable = false, true
		}
	}
	perStatus := map[hub.Status]int{}
	silenced, acked := s.fleetMarks(ctx)
	ranked := make([][]*hub.Customer, len(statusRank))
	for _, fr := range fl.Rows {
		c := fr.Customer
		st := c.Status(now, s.Thresholds)
		if st == hub.StatusBlocked {
			continue
		}
		perStatus[st]++
		if st == hub.StatusOK && !all && perStatus[st] > okRowLimit {
			continue
		}
		ranked[statusRank[st]] = append(ranked[statusRank[st]], c)
	}
	if ok := perStatus[hub.StatusOK]; !all && ok > okRowLimit {
		t.HiddenOK = ok - okRowLimit
	}
	for _, customers := range ranked {
		for _, c := range customers {
			row := s.customerRow(c, now, t.LatestVersion)
			row.Silenced, row.AckedBy = silenced[c.ID], acked[c.ID]
			if t.ShowEvents {
				ec := counts[c.ID]
				row.Events = &ec
			}
			t.Rows = append(t.Rows, row)
		}
	}
	for _, st := range []hub.Status{hub.StatusOK, hub.StatusWarn, hub.StatusDown, hub.StatusDisabled, hub.StatusPending} {
		if n := perStatus[st]; n > 0 {
			t.Counts = append(t.Counts, StatusCount{Status: st, Count: n})
		}
	}
	return t, nil
}

// customerRow summarizes a customer for the tables.
func (s *Server) customerRow(c *hub.Customer, now time.Time, latestVersion string) CustomerRow {
	row := CustomerRow{
		ID:      c.ID,
		Name:    c.DisplayName,
		Domain:  c.Domain,
		Managed: c.Managed,
		Blocked: c.Blocked,
		Status:  c.Status(now, s.Thresholds),
	}
	reason := c.Reason(now, s.Thresholds, s.Location)
	row.Reason, row.ReasonCode = reason.Text, reason.Code
	if l := c.Latest; l != nil {
		row.Version = l.ControllerVersion
		row.VersionOutdated = hub.UpdateAvailable(l.ControllerVersion, latestVersion)
		row.LastReport = ago(now, l.ReceivedAt)
		row.LastReportAt = formatTime(l.ReceivedAt, s.Location)
		row.MetricsAge = s.staleAge(c, now)
		cpu, mem, disk := metric(l.CPUPercent, l.HasCPU), metric(l.MemPercent, l.HasMem), metric(l.DiskPercent, l.HasDisk)
		row.CPU, row.CPULevel = cpu.Text, cpu.Level
		row.Mem, row.MemLevel = mem.Text, mem.Level
		row.Disk, row.DiskLevel = disk.Text, disk.Level
		row.Containers = strconv.Itoa(l.ContainersRunning) + "/" + strconv.Itoa(l.ContainersTotal)
		row.ContainersDown = l.ContainersRunning < l.ContainersTotal
	}
	return row
}

// CustomersPage is the customer list at /configs.
type CustomersPage struct {
	Page
	Rows []CustomerRow
}

func (s *Server) handleCustomerList(w http.ResponseWriter, r *http.Request) {
	customers, err := s.Customers.FindCustomers(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	now, latest := s.Now(), s.latestVersion(r.Context())
	rows := make([]CustomerRow, len(customers))
	for i, c := range customers {
		rows[i] = s.customerRow(c, now, latest)
	}
	s.render(w, r, http.StatusOK, "customers", "", &CustomersPage{
		Page: s.page(w, r, "Customers", "customers"),
		Rows: rows,
	})
}
