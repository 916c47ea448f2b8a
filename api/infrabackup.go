package api

import (
	"net/http"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
)

// infraBackupResponse acknowledges a stored backup.
type infraBackupResponse struct {
	Status string `json:"status"`
	ID     int64  `json:"id"`
	// Kept is how many versions the hub keeps per customer.
	Kept int `json:"versions_kept"`
}

func (s *Server) handleInfraBackupCreate(w http.ResponseWriter, r *http.Request) {
	p, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	backup, err := hub.ParseInfraBackup(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := p.canActFor(backup.CustomerID); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := configgen.ParseMapping(backup.ControllerYAMLBytes, "controller_yaml (decoded)", false); err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, err := s.InfraBackups.CreateInfraBackup(r.Context(), backup)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("infrastructure backup stored", "customer_id", backup.CustomerID, "id", stored.ID)
	writeJSON(w, http.StatusCreated, infraBackupResponse{Status: "ok", ID: stored.ID, Kept: hub.InfraBackupVersionsKept})
}

func (s *Server) handleInfraBackupGet(w http.ResponseWriter, r *http.Request) {
	id, err := s.customerFromPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	backup, err := s.InfraBackups.FindLatestInfraBackup(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(backup.Body)
}
