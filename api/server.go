// Package api serves the JSON API that controllers, host agents and
// automation use: Bearer-authenticated, JSON in and out.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleet"
	"github.com/felhom/hub/internal/httpx"
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
	// RateLimits keeps the retrieval limits' counts, shared by every
	// replica; required.
	RateLimits hub.RateLimitService
	// Bodies bounds the request bodies in flight; Register sets defaults
	// (DefaultBodyBudget, DefaultBodyWait).
	Bodies *BodyBudget
	// Refused counts the reports refused for existing customers; optional.
	Refused *RefusedReports
	// TrustedProxies may set X-Forwarded-For (server.trusted_proxies).
	TrustedProxies []netip.Prefix
	// Fleet performs (and audits) operator actions; Register makes one
	// over Customers and Reports, without audit or controller calls, if unset.
	Fleet *fleet.Service
	// Alerts lists silences (alerting.go); nil answers 503 there.
	Alerts hub.AlertService
	// Audit is read by GET /api/v1/admin/audit; Versions marks outdated
	// controllers. Both required.
	Audit    hub.AuditService
	Versions hub.VersionService

	// DR reads the disaster-recovery readiness; RecoveryAccess keeps the
	// recovery links and the retrieval audit; RecoveryLinks mints links;
	// RecoveryNotices tells customers of recovery downloads (optional);
	// DRChanged hears of each stored bundle and report (optional);
	// PublicURL (server.public_url) is the base of recovery links.
	DR              DRSource
	RecoveryAccess  hub.RecoveryAccessService
	RecoveryLinks   RecoveryLinkMinter
	RecoveryNotices hub.RecoveryNotifier
	DRChanged       func(customerID string)
	PublicURL       string

	// FieldProblems counts the fields the tolerant reader could not read,
	// per stream (/metrics); optional.
	FieldProblems FieldProblemCounter

	// GlobalKey is the fleet-wide API key (api.report_api_key).
	GlobalKey string
	// AdminKey is api.admin_api_key, a bootstrap admin token; "" for none.
	AdminKey string
	// Tokens holds the operators' API tokens; Sessions resolves dashboard
	// sessions (nil: the API takes no session).
	Tokens   hub.TokenService
	Sessions SessionAuthenticator

	Thresholds     hub.Thresholds
	HostThresholds hub.Thresholds
	// Tiers pick the resolution of a history answer.
	Tiers   hub.HistoryTiers
	Version string
	Logger  *slog.Logger
	Now     func() time.Time
	// Ready says whether the hub should be sent traffic (/readyz); its
	// error is shown to the caller, so it must name no secret and no
	// internal detail. Nil means the database answers (DB.Ping).
	Ready func(ctx context.Context) error
}

// FieldProblemCounter counts field problems of stored bodies.
type FieldProblemCounter interface {
	CountFieldProblems(stream string, problems hub.FieldProblems)
}

// countProblems counts the problems of a stored body of stream.
func (s *Server) countProblems(stream string, problems hub.FieldProblems) {
	if s.FieldProblems != nil && len(problems) > 0 {
		s.FieldProblems.CountFieldProblems(stream, problems)
	}
}

// Auth says which credentials a route accepts (SPEC §2.1).
type Auth string

// The credential classes of the route table.
const (
	// AuthPublic needs no credentials (/healthz).
	AuthPublic Auth = "public"
	// AuthCustomer takes the global key, or the key of the customer the
	// path or body names (another customer's key is 403).
	AuthCustomer Auth = "customer"
	// AuthGlobal takes the global key only (a customer's key is 403).
	AuthGlobal Auth = "global"
	// AuthHost takes the global key, or the key of the host the body
	// names (another host's is 403); customer keys are not valid here.
	AuthHost Auth = "host"
	// AuthRetrieval takes the path customer's X-Retrieval-Password and no
	// Bearer key; failures are rate-limited.
	AuthRetrieval Auth = "retrieval"
	// AuthRecoveryLink takes a single-use recovery link's token (query
	// token=…) for the path customer and consumes it; no Bearer key.
	AuthRecoveryLink Auth = "recovery-link"
)

// Route is one entry of the route table.
type Route struct {
	Method string // "" matches every method
	Path   string // a ServeMux path pattern
	Auth   Auth
	// Body is true when the route reads a request body.
	Body bool
	// handler serves the request once Auth has let it through (guard).
	handler handler
}

// Pattern is the route's ServeMux pattern, such as "GET /api/v1/customers".
func (rt Route) Pattern() string {
	if rt.Method == "" {
		return rt.Path
	}
	return rt.Method + " " + rt.Path
}

// Routes returns the route table: Register serves exactly these routes, and
// the auth matrix test checks every one of them.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET", "/healthz", AuthPublic, false, s.handleHealth},
		{"GET", livezPath, AuthPublic, false, s.handleLive},
		{"GET", readyzPath, AuthPublic, false, s.handleReady},

		{"POST", reportPath, AuthCustomer, true, s.handleReportCreate},
		{"GET", "/api/v1/customers", AuthRead, false, s.handleCustomerList},
		{"GET", "/api/v1/customers/{id}", AuthCustomerRead, false, s.handleCustomerGet},
		{"GET", "/api/v1/customers/{id}/history", AuthCustomerRead, false, s.handleHistoryGet},
		{"GET", "/api/v1/customers/{id}/reports/{report_id}", AuthCustomerRead, false, s.handleReportGet},
		{"GET", "/api/v1/customers/{id}/hosts/{host_id}/history", AuthCustomerRead, false, s.handleHostHistoryGet},
		{"GET", "/api/v1/customers/{id}/events", AuthCustomerRead, false, s.handleEventList},
		{"GET", "/api/v1/customers/{id}/hosts", AuthCustomerRead, false, s.handleCustomerHostList},
		{"GET", "/api/v1/customers/{id}/notifications", AuthRead, false, s.handleNotificationList},

		{"POST", "/api/v1/event", AuthCustomer, true, s.handleEventCreate},
		{"POST", "/api/v1/preferences", AuthCustomer, true, s.handlePreferencesSet},
		{"POST", "/api/v1/notify", AuthCustomer, true, s.handleNotifyCreate},

		{"POST", "/api/v1/host-report", AuthHost, true, s.handleHostReportCreate},

		{"POST", "/api/v1/admin/customers", AuthAdmin, true, s.handleAdminCustomerCreate},
		{"GET", "/api/v1/admin/customers/{id}", AuthAdmin, false, s.handleAdminCustomerGet},
		{"PATCH", "/api/v1/admin/customers/{id}", AuthAdmin, true, s.handleAdminCustomerUpdate},
		{"DELETE", "/api/v1/admin/customers/{id}", AuthAdmin, false, s.handleAdminCustomerDelete},
		{"POST", "/api/v1/admin/customers/{id}/block", AuthAdmin, false, s.handleAdminCustomerBlock},
		{"POST", "/api/v1/admin/customers/{id}/unblock", AuthAdmin, false, s.handleAdminCustomerUnblock},
		{"POST", "/api/v1/admin/customers/{id}/rotate-key", AuthAdmin, false, s.handleAdminCustomerRotateKey},
		{"POST", "/api/v1/admin/customers/{id}/create-config", AuthAdmin, false, s.handleAdminConfigFromReport},
		{"POST", "/api/v1/admin/customers/{id}/push", AuthAdmin, false, s.handleAdminConfigPush},
		{"POST", "/api/v1/admin/customers/{id}/pull", AuthAdmin, false, s.handleAdminConfigPull},
		{"GET", "/api/v1/admin/customers/{id}/diff", AuthAdmin, false, s.handleAdminConfigDiff},
		{"POST", "/api/v1/admin/customers/{id}/update", AuthAdmin, true, s.handleAdminControllerUpdate},
		{"GET", "/api/v1/admin/audit", AuthAdmin, false, s.handleAdminAuditList},
		{"POST", "/api/v1/admin/customers/{id}/rotate-retrieval-password", AuthAdmin, false, s.handleAdminCustomerRotateRetrievalPassword},
		{"POST", "/api/v1/admin/hosts", AuthAdmin, true, s.handleAdminHostCreate},
		{"POST", "/api/v1/admin/tokens", AuthAdmin, true, s.handleAdminTokenCreate},
		{"GET", "/api/v1/admin/tokens", AuthAdmin, false, s.handleAdminTokenList},
		{"DELETE", "/api/v1/admin/tokens/{token_id}", AuthAdmin, false, s.handleAdminTokenDelete},
		{"POST", "/api/v1/admin/silences", AuthAdmin, true, s.handleAdminSilenceCreate},
		{"GET", "/api/v1/admin/silences", AuthAdmin, false, s.handleAdminSilenceList},
		{"DELETE", "/api/v1/admin/silences/{silence_id}", AuthAdmin, false, s.handleAdminSilenceEnd},
		{"POST", "/api/v1/admin/customers/{id}/ack", AuthAdmin, true, s.handleAdminCustomerAck},
		{"GET", "/api/v1/events", AuthRead, false, s.handleFleetEventList},

		{"POST", "/api/v1/infra-backup", AuthCustomer, true, s.handleInfraBackupCreate},
		{"GET", "/api/v1/infra-backup/{id}", AuthCustomer, false, s.handleInfraBackupGet},
		{"GET", "/api/v1/config/{id}", AuthRetrieval, false, s.handleConfigGet},
		{"GET", "/api/v1/recovery/{id}", AuthRetrieval, false, s.handleRecoveryGet},
		{"GET", "/api/v1/recovery/{id}/link", AuthRecoveryLink, false, s.handleRecoveryLinkGet},

		{"GET", "/api/v1/dr", AuthRead, false, s.handleDRList},
		{"GET", "/api/v1/customers/{id}/dr", AuthCustomerRead, false, s.handleDRGet},
		{"POST", "/api/v1/admin/customers/{id}/recovery-link", AuthAdmin, true, s.handleAdminRecoveryLinkCreate},

		// Every other /api/ path is a JSON 404, not the dashboard's page.
		{"", "/api/", AuthPublic, false, s.handleNotFound},
	}
}

// Register adds the routes of Routes to mux, each behind the auth its
// entry declares.
func (s *Server) Register(mux *http.ServeMux) {
	s.setDefaults()
	s.register(mux, s.Routes())
}

// setDefaults fills in the optional fields Register defaults.
func (s *Server) setDefaults() {
	if s.RateLimits == nil {
		// Without it the retrieval routes could not limit guessing.
		panic("api: Server.RateLimits is required")
	}
	if s.Audit == nil || s.Versions == nil {
		panic("api: Server.Audit and Server.Versions are required")
	}

	if s.Retrieval == nil {
		s.Retrieval = NewRetrievalLimits()
	}
	if s.Fleet == nil {
		s.Fleet = &fleet.Service{Customers: s.Customers, Reports: s.Reports, Alerts: s.Alerts, Now: s.Now, Logger: s.Logger}
	}
	if s.Bodies == nil {
		s.Bodies = NewBodyBudget(DefaultBodyBudget, DefaultBodyWait)
	}
}

// register adds routes to mux, each wrapped by guard.
func (s *Server) register(mux *http.ServeMux, routes []Route) {
	for _, rt := range routes {
		mux.HandleFunc(rt.Pattern(), s.guard(rt))
	}
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.writeError(w, r, hub.Errorf(hub.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

// ErrorStatus returns the HTTP status for err.
func ErrorStatus(err error) int { return httpx.Status(err) }

// writeError is the one error path: it maps the code to a status, logs
// internal errors, and never shows their text to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	var gone linkGone
	if errors.As(err, &gone) {
		status = http.StatusGone
	}
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
