package web

import (
	"net/http"
	"net/url"

	hub "github.com/felhom/hub"
)

// The customer actions are POST forms; the destructive ones sit behind a
// confirmation step on the customer page. Each ends in a redirect with a
// flash that says what happened.

func (s *Server) handleCustomerBlock(w http.ResponseWriter, r *http.Request) {
	s.setBlocked(w, r, true)
}

func (s *Server) handleCustomerUnblock(w http.ResponseWriter, r *http.Request) {
	s.setBlocked(w, r, false)
}

func (s *Server) setBlocked(w http.ResponseWriter, r *http.Request, blocked bool) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Customers.SetCustomerBlocked(r.Context(), id, blocked); err != nil {
		s.renderError(w, r, err)
		return
	}
	if blocked {
		s.Logger.Info("customer blocked", "customer_id", id)
		s.redirectWithFlash(w, r, "/customers/"+id, "ok",
			id+" is blocked: hidden from the dashboard, no notifications; its reports are still stored.")
		return
	}
	s.Logger.Info("customer unblocked", "customer_id", id)
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", id+" is unblocked and back on the dashboard.")
}

func (s *Server) handleCustomerRotateKey(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Customers.RotateCustomerKey(r.Context(), id, hub.NewAPIKey()); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("customer API key rotated", "customer_id", id)
	s.redirectWithFlash(w, r, "/customers/"+id, "ok",
		"New API key for "+id+". The old key no longer works: give the controller the new one (Credentials).")
}

func (s *Server) handleCustomerDelete(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Customers.DeleteCustomerConfig(r.Context(), id); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("customer config deleted", "customer_id", id)
	s.redirectWithFlash(w, r, "/configs", "ok",
		"Config of "+id+" deleted. If the node keeps reporting, it shows as a manual customer.")
}

// handleCustomerCreateConfig turns a manual customer into a managed one,
// filling what it can from the latest report, and opens the edit form.
func (s *Server) handleCustomerCreateConfig(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	if latest, err := s.Reports.FindLatestReport(r.Context(), id); err == nil {
		cfg.DisplayName = latest.Summary.Hostname
		if u, err := url.Parse(latest.Summary.ControllerURL); err == nil && hub.ValidateDomain(u.Hostname()) == nil {
			cfg.Domain = u.Hostname()
		}
	} else if hub.ErrorCode(err) != hub.ENOTFOUND {
		s.renderError(w, r, err)
		return
	}
	if len(cfg.DisplayName) > 200 {
		cfg.DisplayName = ""
	}
	cfg.MintCredentials()
	if err := s.Customers.CreateCustomerConfig(r.Context(), cfg); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("customer config created from report", "customer_id", id)
	s.redirectWithFlash(w, r, "/configs/"+id+"/edit", "ok",
		"Config for "+id+" created from its latest report. Check the fields and save.")
}
