package web

import (
	"net/http"
)

// The customer actions are POST forms; the destructive ones sit behind a
// confirmation step on the customer page. Each goes through Actions, so
// that the audit log records it under the session, and ends in a redirect
// with a flash that says what happened.

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
	if err := s.Actions.SetBlocked(r.Context(), actorOf(r.Context()), id, blocked); err != nil {
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
	if _, err := s.Actions.RotateKey(r.Context(), actorOf(r.Context()), id); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("customer API key rotated", "customer_id", id)
	also := ""
	if parseForm(w, r) == nil && r.PostForm.Get("retrieval_password") == "on" {
		if _, err := s.Actions.RotateRetrievalPassword(r.Context(), actorOf(r.Context()), id); err != nil {
			s.renderError(w, r, err)
			return
		}
		also = " The retrieval password is new too; the old one no longer works."
	}
	msg := "New API key for " + id + ". The old key no longer works: give the controller the new one (Credentials); " +
		"Push Config cannot reach a controller that does not have it."
	if cfg, err := s.Customers.FindCustomerConfig(r.Context(), id); err == nil && cfg.Rotation.PreviousValid(s.Now()) {
		msg = "New API key for " + id + ". The key the node has stays valid until " +
			formatTime(cfg.Rotation.PreviousValidUntil, s.Location) + ", or until the node reports with the new one: " +
			"push the config now (it is sent with the key the controller knows), or give the controller the new key (Credentials)."
	}
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", msg+also)
}

func (s *Server) handleCustomerDelete(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Actions.DeleteConfig(r.Context(), actorOf(r.Context()), id); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("customer config deleted", "customer_id", id)
	s.redirectWithFlash(w, r, "/configs", "ok",
		"Config of "+id+" deleted. If the node keeps reporting, it shows as a manual customer.")
}

// handleCustomerCreateConfig turns a manual customer into a managed one,
// filled from its latest report, and opens the edit form.
func (s *Server) handleCustomerCreateConfig(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if _, err := s.Actions.CreateConfigFromReport(r.Context(), actorOf(r.Context()), id); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("customer config created from report", "customer_id", id)
	s.redirectWithFlash(w, r, "/configs/"+id+"/edit", "ok",
		"Config for "+id+" created from its latest report. Check the fields and save.")
}
