package api

import (
	"net/http"
	"strconv"
	"time"

	hub "github.com/felhom/hub"
)

// historyResponse holds the metric points of a period at the resolution of
// the finest tier that covers it: raw (one point per report, 7 days),
// hourly (30 days) or daily (retention.max_days). Points have one shape at
// every resolution.
type historyResponse struct {
	CustomerID string            `json:"customer_id"`
	HostID     string            `json:"host_id,omitempty"`
	Period     string            `json:"period"`
	Resolution string            `json:"resolution"`
	Points     []hub.MetricPoint `json:"points"`
}

// period reads the request's period: "24h" when absent.
func period(r *http.Request) (string, time.Duration, error) {
	text := r.URL.Query().Get("period")
	d, err := hub.ParsePeriod(text)
	if text == "" {
		text = "24h"
	}
	return text, d, err
}

// history answers a subject's metric history over the request's period.
func (s *Server) history(r *http.Request, stream, subjectID string) (historyResponse, error) {
	text, d, err := period(r)
	if err != nil {
		return historyResponse{}, err
	}
	f := s.Tiers.Filter(stream, subjectID, d, s.Now())
	points, err := s.History.FindMetrics(r.Context(), f)
	if err != nil {
		return historyResponse{}, err
	}
	return historyResponse{Period: text, Resolution: f.Resolution, Points: points}, nil
}

func (s *Server) handleHistoryGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	if _, _, err := period(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.Customers.FindCustomerByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.history(r, hub.StreamReports, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp.CustomerID = id
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleHostHistoryGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	hostID := r.PathValue("host_id")
	if err := hub.ValidateHostID(hostID); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, _, err := period(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	h, err := s.Hosts.FindHostByID(r.Context(), hostID)
	if err == nil && h.CustomerID != id {
		err = hub.Errorf(hub.ENOTFOUND, "customer %s has no host %s", id, hostID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.history(r, hub.StreamHostReports, hostID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp.CustomerID, resp.HostID = id, hostID
	writeJSON(w, http.StatusOK, resp)
}

// archivedReportResponse is one report of the full tier as received.
type archivedReportResponse struct {
	CustomerID string `json:"customer_id"`
	*hub.ArchivedReport
}

func (s *Server) handleReportGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	reportID, err := strconv.ParseInt(r.PathValue("report_id"), 10, 64)
	if err != nil || reportID <= 0 {
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "report id must be a positive integer"))
		return
	}
	report, err := s.History.FindArchivedReport(r.Context(), hub.StreamReports, id, reportID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, archivedReportResponse{CustomerID: id, ArchivedReport: report})
}
