package api

import (
	"encoding/json"
	"fmt"
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

func (s *Server) handleCustomerList(w http.ResponseWriter, r *http.Request, _ *caller) {
	fl, err := s.Customers.ListFleet(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.Now()
	var counts map[string]hub.EventCounts
	if since := now.Add(-recentEventsPeriod); !fl.CanCount(since) {
		if counts, err = s.Events.CountRecentEvents(r.Context(), since); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.writeFleet(w, fl, now, counts, s.latestControllerVersion(r))
}

func (s *Server) handleCustomerGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	customer, err := s.Customers.FindCustomerByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	latest, err := s.Reports.FindLatestReport(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := withHubFields(latest.Body, map[string]any{
		"received_at":    latest.Summary.ReceivedAt,
		"status":         customer.Status(s.Now(), s.Thresholds),
		"field_problems": latest.Problems,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// withHubFields returns the report body as received with the hub's own
// fields set at its top level (SPEC §2.3): the controller's fields keep
// their values, except the ones the hub sets, which it owns. A nil or
// empty value is left out.
func withHubFields(body json.RawMessage, fields map[string]any) ([]byte, error) {
	var report map[string]json.RawMessage
	if err := json.Unmarshal(body, &report); err != nil {
		return nil, fmt.Errorf("decode stored report: %w", err)
	}
	for k, v := range fields {
		if p, ok := v.(hub.FieldProblems); ok && len(p) == 0 {
			delete(report, k)
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", k, err)
		}
		report[k] = raw
	}
	return json.Marshal(report)
}
