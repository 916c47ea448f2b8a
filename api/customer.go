package api

import (
	"encoding/json"
	"net/http"
	"time"

	hub "github.com/felhom/hub"
)

// customerView is a customer in the fleet API, with its error and warning
// events of the last 24 hours.
type customerView struct {
	*hub.Customer
	Status      hub.Status `json:"status"`
	Errors24h   int        `json:"errors_24h"`
	Warnings24h int        `json:"warnings_24h"`
	// UpdateAvailable is true when the controller runs an older release
	// than the newest in the registry.
	UpdateAvailable bool `json:"update_available"`
}

// recentEventsPeriod is the window of the fleet view's event counts.
const recentEventsPeriod = 24 * time.Hour

func (s *Server) view(c *hub.Customer, now time.Time, counts hub.EventCounts) customerView {
	return customerView{
		Customer:    c,
		Status:      c.Status(now, s.Thresholds),
		Errors24h:   counts.Errors,
		Warnings24h: counts.Warnings,
	}
}

func (s *Server) handleCustomerList(w http.ResponseWriter, r *http.Request) {
	p, err := s.authenticate(r)
	if err == nil {
		err = p.requireGlobal()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	customers, err := s.Customers.FindCustomers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.Now()
	counts, err := s.Events.CountRecentEvents(r.Context(), now.Add(-recentEventsPeriod))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	latest := s.latestControllerVersion(r)
	views := make([]customerView, len(customers))
	for i, c := range customers {
		views[i] = s.view(c, now, counts[c.ID])
		views[i].UpdateAvailable = c.Latest != nil && hub.UpdateAvailable(c.Latest.ControllerVersion, latest)
	}
	writeJSON(w, http.StatusOK, map[string]any{"customers": views, "latest_controller_version": latest})
}

// customerFromPath authenticates the request and checks that it may read
// the customer named in the path.
func (s *Server) customerFromPath(r *http.Request) (string, error) {
	p, err := s.authenticate(r)
	if err != nil {
		return "", err
	}
	id := r.PathValue("id")
	if err := hub.ValidateCustomerID(id); err != nil {
		return "", err
	}
	return id, p.canActFor(id)
}

// latestReportResponse is a customer's latest report as received.
type latestReportResponse struct {
	CustomerID string          `json:"customer_id"`
	Status     hub.Status      `json:"status"`
	ReceivedAt time.Time       `json:"received_at"`
	Report     json.RawMessage `json:"report"`
}

func (s *Server) handleCustomerGet(w http.ResponseWriter, r *http.Request) {
	id, err := s.customerFromPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Customers.FindCustomerByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	latest, err := s.Reports.FindLatestReport(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, latestReportResponse{
		CustomerID: id,
		Status:     c.Status(s.Now(), s.Thresholds),
		ReceivedAt: latest.Summary.ReceivedAt,
		Report:     latest.Body,
	})
}
