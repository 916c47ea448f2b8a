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
	// Complete is false when the backup lacks what a restore needs;
	// FieldProblems says what.
	Complete      bool              `json:"complete"`
	FieldProblems hub.FieldProblems `json:"field_problems,omitempty"`
}

func (s *Server) handleInfraBackupCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	backup, err := hub.ParseInfraBackup(body, s.Now(), isYAMLMapping)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := c.mayActFor(backup.CustomerID); err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, err := s.InfraBackups.CreateInfraBackup(r.Context(), backup)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("infrastructure backup stored", "customer_id", backup.CustomerID, "id", stored.ID,
		"complete", backup.Complete(), "field_problems", len(backup.Problems))
	s.countProblems("infra_backup", backup.Problems)
	writeJSON(w, http.StatusCreated, infraBackupResponse{Status: "ok", ID: stored.ID, Kept: hub.InfraBackupVersionsKept,
		Complete: backup.Complete(), FieldProblems: backup.Problems})
}

// isYAMLMapping reports whether text is a YAML mapping, as a controller.yaml is.
func isYAMLMapping(text []byte) bool {
	_, err := configgen.ParseMapping(text, "controller_yaml (decoded)", false)
	return err == nil
}

func (s *Server) handleInfraBackupGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
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
