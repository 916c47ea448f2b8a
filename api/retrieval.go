package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// ConfigRenderer generates a customer's controller.yaml.
type ConfigRenderer interface {
	Render(cfg *hub.CustomerConfig) ([]byte, error)
}

// retrievalHeader carries the per-customer retrieval password.
const retrievalHeader = "X-Retrieval-Password"

// authenticateRetrieval checks the X-Retrieval-Password of a request for
// the path's customer, with failures rate-limited per client address and
// per customer (RetrievalLimits). It returns the customer id. A wrong
// password, a missing one and an unknown customer are the same 401.
func (s *Server) authenticateRetrieval(w http.ResponseWriter, r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := hub.ValidateCustomerID(id); err != nil {
		return "", err
	}
	ctx, addr := r.Context(), clientAddress(r, s.TrustedProxies)
	wait, err := s.admitRetrievalAttempt(ctx, addr, id)
	if err != nil {
		return "", err
	}
	if wait > 0 {
		s.auditRetrieval(r, id, retrievalResource(r), hub.RetrievalByPassword, hub.RetrievalRateLimited, "")
		return "", tooManyRetrievals(w, wait)
	}
	password := r.Header.Get(retrievalHeader)
	err = hub.Errorf(hub.EUNAUTHORIZED, "missing %s header", retrievalHeader)
	if password != "" {
		err = s.Customers.AuthenticateRetrieval(ctx, id, password)
	}
	switch {
	case err == nil:
		s.refundRetrievalAttempt(ctx, addr, id)
		return id, nil
	case hub.ErrorCode(err) != hub.EUNAUTHORIZED:
		s.refundRetrievalAttempt(ctx, addr, id) // not a failed guess
		return "", err
	}
	s.Logger.Warn("retrieval password rejected", "customer_id", id, "remote", addr)
	detail := "wrong password"
	if password == "" {
		detail = "no password"
	}
	s.auditRetrieval(r, id, retrievalResource(r), hub.RetrievalByPassword, hub.RetrievalDenied, detail)
	wait, cerr := s.countRetrievalFailure(ctx, id)
	if cerr != nil {
		return "", cerr
	}
	if wait > 0 {
		return "", tooManyRetrievals(w, wait)
	}
	return "", err
}

// tooManyRetrievals is the 429 of a limited retrieval attempt.
func tooManyRetrievals(w http.ResponseWriter, wait time.Duration) error {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return hub.Errorf(hub.ETOOMANY, "too many failed retrieval attempts; try again later")
}

// renderConfig generates the customer's controller.yaml.
func (s *Server) renderConfig(r *http.Request, id string) ([]byte, error) {
	cfg, err := s.Customers.FindCustomerConfig(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return s.Configs.Render(cfg)
}

func (s *Server) handleConfigGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	body, err := s.renderConfig(r, id)
	if err != nil {
		s.auditRetrieval(r, id, hub.RetrievalConfig, hub.RetrievalByPassword, hub.RetrievalError, hub.ErrorMessage(err))
		s.writeError(w, r, err)
		return
	}
	// No audit row, no download: the keys are never handed out unrecorded.
	if err := s.auditRetrieval(r, id, hub.RetrievalConfig, hub.RetrievalByPassword, hub.RetrievalOK, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("controller.yaml retrieved", "customer_id", id)
	w.Header().Set("Content-Type", "text/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="controller.yaml"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// recoveryResponse is everything a reinstalled controller needs.
type recoveryResponse struct {
	CustomerID string `json:"customer_id"`
	ConfigYAML string `json:"config_yaml"`
	// InfraBackup is the latest backup exactly as posted; null when none.
	InfraBackup    json.RawMessage `json:"infra_backup"`
	HasInfraBackup bool            `json:"has_infra_backup"`
}

func (s *Server) handleRecoveryGet(w http.ResponseWriter, r *http.Request, c *caller) {
	s.serveRecovery(w, r, c.customerID, hub.RetrievalByPassword, "")
}

// serveRecovery answers a recovery retrieval authorized via password or
// link: the body is built, the retrieval audited (no row, no download),
// the customer noticed, then the body sent.
func (s *Server) serveRecovery(w http.ResponseWriter, r *http.Request, id, via, detail string) {
	fail := func(err error) {
		s.auditRetrieval(r, id, hub.RetrievalRecovery, via, hub.RetrievalError, strings.TrimSpace(detail+" "+hub.ErrorMessage(err)))
		s.writeError(w, r, err)
	}
	config, err := s.renderConfig(r, id)
	if err != nil {
		fail(err)
		return
	}
	resp := recoveryResponse{CustomerID: id, ConfigYAML: string(config)}
	backup, err := s.InfraBackups.FindLatestInfraBackup(r.Context(), id)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
	case err != nil:
		fail(err)
		return
	default:
		resp.InfraBackup, resp.HasInfraBackup = backup.Body, true
	}
	if err := s.auditRetrieval(r, id, hub.RetrievalRecovery, via, hub.RetrievalOK, detail); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.noticeRecoveryRetrieved(r.Context(), id)
	s.Logger.Info("recovery bundle retrieved", "customer_id", id, "via", via, "has_infra_backup", resp.HasInfraBackup)
	writeJSON(w, http.StatusOK, resp)
}
