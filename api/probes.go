package api

import (
	"context"
	"net/http"
	"time"
)

// The probe paths: liveness answers without touching the database,
// readiness says whether this hub should be sent traffic. /healthz stays
// as it was (a read of the database) for the monitors that know it.
const (
	livezPath  = "/livez"
	readyzPath = "/readyz"
)

// ProbePaths are the paths of the probes and the scrape, which the request
// log writes at debug level only: kubelets and Prometheus call them every
// few seconds.
var ProbePaths = map[string]bool{livezPath: true, readyzPath: true, "/healthz": true, "/metrics": true}

// handleLive answers 200 while the process serves HTTP at all: a hub whose
// database is down is not restarted for it, it waits for the database.
func (s *Server) handleLive(w http.ResponseWriter, _ *http.Request, _ *caller) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
}

// handleReady answers 200 when the hub can take writes and is not shutting
// down (Server.Ready), 503 with the reason otherwise.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request, _ *caller) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	ready := s.Ready
	if ready == nil {
		ready = s.DB.Ping
	}
	if err := ready(ctx); err != nil {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"status": "unavailable", "error": err.Error(), "version": s.Version,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
}
