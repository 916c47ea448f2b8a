// Package api serves the JSON API that controllers, host agents and
// automation use: Bearer-authenticated, JSON in and out.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleet"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds what the API handlers need. Fields are set before Register.
type Server struct {
	Reports   hub.ReportService
	Customers hub.CustomerService
	Events    hub.EventService
	Hosts     hub.HostService
	History   hub.HistoryService
	DB        Pinger
	// Notifications holds preferences and the notification history;
	// Relayer queues legacy /notify messages.
	Notifications hub.NotificationService
	Relayer       hub.Relayer

	// InfraBackups keeps the disaster-recovery snapshots.
	InfraBackups hub.InfraBackupService
	// Configs generates controller.yaml files.
	Configs ConfigRenderer
	// Retrieval limits failed retrieval passwords; Register sets defaults.
	Retrieval *RetrievalLimits
	// TrustedProxies may set X-Forwarded-For (server.trusted_proxies).
	TrustedProxies []netip.Prefix
	// Fleet performs (and audits) operator actions; Register makes one
	// over Customers and Reports, without audit or controller calls, if unset.
	Fleet *fleet.Service
	// Audit is read by GET /api/v1/admin/audit; Versions marks outdated
	// controllers. Both optional.
	Audit    hub.AuditService
	Versions hub.VersionService

	// GlobalKey is the fleet-wide API key (api.report_api_key).
	GlobalKey      string
	Thresholds     hub.Thresholds
	HostThresholds hub.Thresholds
	// Tiers pick the resolution of a history answer.
	Tiers   hub.HistoryTiers
	Version string
	Logger  *slog.Logger
	Now     func() time.Time
}

// Register adds the API's routes to mux. This is the route table.
func (s *Server) Register(mux *http.ServeMux) {
	if s.Retrieval == nil {
		s.Retrieval = NewRetrievalLimits()
	}
	if s.Fleet == nil {
		s.Fleet = &fleet.Service{Customers: s.Customers, Reports: s.Reports, Logger: s.Logger}
	}
	mux.HandleFunc("GET /healthz", s.handleHealth)

	mux.HandleFunc("POST /api/v1/report", s.handleReportCreate)
	mux.HandleFunc("GET /api/v1/customers", s.handleCustomerList)
	mux.HandleFunc("GET /api/v1/customers/{id}", s.handleCustomerGet)
	mux.HandleFunc("GET /api/v1/customers/{id}/history", s.handleHistoryGet)
	mux.HandleFunc("GET /api/v1/customers/{id}/reports/{report_id}", s.handleReportGet)
	mux.HandleFunc("GET /api/v1/customers/{id}/hosts/{host_id}/history", s.handleHostHistoryGet)
	mux.HandleFunc("GET /api/v1/customers/{id}/events", s.handleEventList)
	mux.HandleFunc("GET /api/v1/customers/{id}/hosts", s.handleCustomerHostList)

	mux.HandleFunc("GET /api/v1/customers/{id}/notifications", s.handleNotificationList)

	mux.HandleFunc("POST /api/v1/event", s.handleEventCreate)
	mux.HandleFunc("POST /api/v1/preferences", s.handlePreferencesSet)
	mux.HandleFunc("POST /api/v1/notify", s.handleNotifyCreate)

	mux.HandleFunc("POST /api/v1/host-report", s.handleHostReportCreate)

	mux.HandleFunc("POST /api/v1/admin/customers", s.handleAdminCustomerCreate)
	mux.HandleFunc("GET /api/v1/admin/customers/{id}", s.handleAdminCustomerGet)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/block", s.handleAdminCustomerBlock)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/unblock", s.handleAdminCustomerUnblock)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/rotate-key", s.handleAdminCustomerRotateKey)
	mux.HandleFunc("DELETE /api/v1/admin/customers/{id}", s.handleAdminCustomerDelete)
	mux.HandleFunc("POST /api/v1/admin/hosts", s.handleAdminHostCreate)

	mux.HandleFunc("POST /api/v1/infra-backup", s.handleInfraBackupCreate)
	mux.HandleFunc("GET /api/v1/infra-backup/{id}", s.handleInfraBackupGet)
	mux.HandleFunc("GET /api/v1/config/{id}", s.handleConfigGet)
	mux.HandleFunc("GET /api/v1/recovery/{id}", s.handleRecoveryGet)
	mux.HandleFunc("PATCH /api/v1/admin/customers/{id}", s.handleAdminCustomerUpdate)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/create-config", s.handleAdminConfigFromReport)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/push", s.handleAdminConfigPush)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/pull", s.handleAdminConfigPull)
	mux.HandleFunc("GET /api/v1/admin/customers/{id}/diff", s.handleAdminConfigDiff)
	mux.HandleFunc("POST /api/v1/admin/customers/{id}/update", s.handleAdminControllerUpdate)
	mux.HandleFunc("GET /api/v1/admin/audit", s.handleAdminAuditList)

	mux.HandleFunc("/api/", s.handleNotFound)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, hub.Errorf(hub.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

// errorStatus maps domain error codes to HTTP statuses.
var errorStatus = map[string]int{
	hub.EINVALID:      http.StatusBadRequest,
	hub.ENOTFOUND:     http.StatusNotFound,
	hub.EUNAUTHORIZED: http.StatusUnauthorized,
	hub.EFORBIDDEN:    http.StatusForbidden,
	hub.ECONFLICT:     http.StatusConflict,
	hub.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hub.ETOOMANY:      http.StatusTooManyRequests,
	hub.EUNAVAILABLE:  http.StatusServiceUnavailable,
	hub.EINTERNAL:     http.StatusInternalServerError,
	hub.EUPSTREAM:     http.StatusBadGateway,
}

// ErrorStatus returns the HTTP status for err.
func ErrorStatus(err error) int {
	if status, ok := errorStatus[hub.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// writeError is the one error path: it maps the code to a status, logs
// internal errors, and never shows their text to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	switch {
	case status == http.StatusBadGateway:
		// A controller failed, not the hub; the message is for the operator.
		s.Logger.Warn("upstream call failed", "method", r.Method, "path", r.URL.Path, "error", hub.ErrorMessage(err))
	case status >= 500:
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, slog.Any("error", err))
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="felhom-hub"`)
	}
	writeJSON(w, status, map[string]string{"error": hub.ErrorMessage(err)})
}

// writeJSON writes v with the status. Encoding into a buffer first means a
// failure never leaves a half-written 200.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// readBody reads the whole request body up to hub.MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, hub.MaxBodyBytes)
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, hub.Errorf(hub.ETOOLARGE, "request body is larger than %d MiB", hub.MaxBodyBytes>>20)
	case err != nil:
		return nil, hub.Errorf(hub.EINVALID, "could not read request body")
	}
	return body, nil
}

// decodeStrict decodes a JSON object body into v, rejecting unknown fields:
// admin bodies are written by people, and a typo must not pass silently.
func decodeStrict(body []byte, v any) error {
	if err := hub.DecodeJSONObject(body, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return hub.Errorf(hub.EINVALID, "%s", unknownFieldMessage(err))
	}
	return nil
}
