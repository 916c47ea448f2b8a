package api

import (
	"net/http"
	"strconv"

	hub "github.com/felhom/hub"
)

func (s *Server) handleAdminConfigFromReport(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	cfg, err := s.Fleet.CreateConfigFromReport(r.Context(), adminActor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("customer config created from report", "customer_id", id)
	writeJSON(w, http.StatusCreated, map[string]string{
		"customer_id":        cfg.CustomerID,
		"display_name":       cfg.DisplayName,
		"domain":             cfg.Domain,
		"api_key":            cfg.APIKey,
		"retrieval_password": cfg.RetrievalPassword,
	})
}

func (s *Server) handleAdminConfigPush(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	res, err := s.Fleet.Push(r.Context(), adminActor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("config pushed", "customer_id", id, "bytes", res.Bytes)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleAdminConfigPull(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	res, err := s.Fleet.Pull(r.Context(), adminActor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("config pulled", "customer_id", id, "updated", len(res.Updated))
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleAdminConfigDiff(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	res, err := s.Fleet.Diff(r.Context(), adminActor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// controllerUpdateRequest is the optional body of .../update.
type controllerUpdateRequest struct {
	// Version defaults to the latest release the registry watcher found.
	Version string `json:"version"`
}

func (s *Server) handleAdminControllerUpdate(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req controllerUpdateRequest
	if len(body) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	res, err := s.Fleet.TriggerUpdate(r.Context(), adminActor, id, req.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("controller update triggered", "customer_id", id, "version", res.Version)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleAdminAuditList(w http.ResponseWriter, r *http.Request, _ *caller) {
	f := hub.AuditFilter{CustomerID: r.URL.Query().Get("customer_id")}
	if f.CustomerID != "" {
		if err := hub.ValidateCustomerID(f.CustomerID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, hub.Errorf(hub.EINVALID, "limit must be a number between 1 and 1000"))
			return
		}
		f.Limit = n
	}
	entries, err := s.Audit.FindAuditEntries(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

// latestControllerVersion is the newest release the registry watcher
// found, or "" when none is known (a failure here must not break the list).
func (s *Server) latestControllerVersion(r *http.Request) string {
	v, err := s.Versions.FindLatestControllerVersion(r.Context())
	if err != nil {
		if hub.ErrorCode(err) != hub.ENOTFOUND {
			s.Logger.Warn("latest controller version unavailable", "error", err)
		}
		return ""
	}
	return v.Version
}
