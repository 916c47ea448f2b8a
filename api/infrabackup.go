package api

import (
	"context"
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
	ingest[*hub.InfraBackup]{
		parse:   func(body []byte) (*hub.InfraBackup, error) { return hub.ParseInfraBackup(body, s.Now(), isYAMLMapping) },
		subject: func(backup *hub.InfraBackup) string { return backup.CustomerID },
		store:   s.storeInfraBackup,
	}.serve(s, w, r, c)
}

// storeInfraBackup keeps a backup; the answer says whether a restore
// could use it.
func (s *Server) storeInfraBackup(ctx context.Context, backup *hub.InfraBackup) (int, any, error) {
	stored, err := s.InfraBackups.CreateInfraBackup(ctx, backup)
	if err != nil {
		return 0, nil, err
	}
	s.Logger.Info("infrastructure backup stored", "customer_id", backup.CustomerID, "id", stored.ID,
		"complete", backup.Complete(), "field_problems", len(backup.Problems))
	s.countProblems("infra_backup", backup.Problems)
	s.markDR(backup.CustomerID)
	return http.StatusCreated, infraBackupResponse{Status: "ok", ID: stored.ID, Kept: hub.InfraBackupVersionsKept,
		Complete: backup.Complete(), FieldProblems: backup.Problems}, nil
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
