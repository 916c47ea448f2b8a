package api

import (
	"context"
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
	ingest[*hub.Report]{
		parse:   func(body []byte) (*hub.Report, error) { return hub.ParseReport(body, s.Now()) },
		subject: func(report *hub.Report) string { return report.CustomerID },
		store:   s.storeReport,
	}.serve(s, w, r, c)
}

// storeReport keeps a report; the answer tells the node whether its
// customer is blocked.
func (s *Server) storeReport(ctx context.Context, report *hub.Report) (int, any, error) {
	res, err := s.Reports.CreateReport(ctx, report)
	if err != nil {
		return 0, nil, err
	}
	if res.NewCustomer {
		s.Logger.Info("new manual customer from report", "customer_id", report.CustomerID)
	}
	s.countProblems("report", report.Problems)
	s.markDR(report.CustomerID)
	return http.StatusOK, reportResponse{Status: "ok", CustomerBlocked: res.CustomerBlocked, FieldProblems: report.Problems}, nil
}
