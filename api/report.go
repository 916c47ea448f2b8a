package api

import (
	"net/http"

	hub "github.com/felhom/hub"
)

// reportResponse is the answer to a controller report.
type reportResponse struct {
	Status          string `json:"status"`
	CustomerBlocked bool   `json:"customer_blocked"`
	// FieldProblems tells the sender which fields the hub could not read
	// (the report is stored all the same).
	FieldProblems hub.FieldProblems `json:"field_problems,omitempty"`
}

func (s *Server) handleReportCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	report, err := hub.ParseReport(body, s.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := c.mayActFor(report.CustomerID); err != nil {
		c.refuse(w, r, report.CustomerID, err)
		s.writeError(w, r, err)
		return
	}
	res, err := s.Reports.CreateReport(r.Context(), report)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.NewCustomer {
		s.Logger.Info("new manual customer from report", "customer_id", report.CustomerID)
	}
	s.countProblems("report", report.Problems)
	writeJSON(w, http.StatusOK, reportResponse{Status: "ok", CustomerBlocked: res.CustomerBlocked, FieldProblems: report.Problems})
}
