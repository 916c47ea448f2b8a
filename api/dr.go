package api

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// DRSource reads the stored disaster-recovery readiness (hub.DRService).
type DRSource interface {
	FindDRReadiness(ctx context.Context, customerID string) (*hub.DRReadiness, error)
	FindDRReadinesses(ctx context.Context) ([]*hub.DRReadiness, error)
}

// RecoveryLinkMinter mints single-use recovery links, audited under actor.
type RecoveryLinkMinter interface {
	MintRecoveryLink(ctx context.Context, actor, customerID, reason string, ttl time.Duration) (*hub.RecoveryLink, string, error)
}

// publicBase is server.public_url, or the request's own origin.
func (s *Server) publicBase(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// errNoDR answers the DR routes of a server built without them.
var errNoDR = hub.Errorf(hub.ENOTFOUND, "disaster-recovery readiness is not served by this hub")

func (s *Server) handleDRList(w http.ResponseWriter, r *http.Request, _ *caller) {
	if s.DR == nil {
		s.writeError(w, r, errNoDR)
		return
	}
	all, err := s.DR.FindDRReadinesses(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hub.SortDRByRisk(all)
	writeJSON(w, http.StatusOK, map[string]any{"customers": all})
}

func (s *Server) handleDRGet(w http.ResponseWriter, r *http.Request, c *caller) {
	if s.DR == nil {
		s.writeError(w, r, errNoDR)
		return
	}
	rd, err := s.DR.FindDRReadiness(r.Context(), c.customerID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rd)
}

// recoveryLinkRequest is the body of POST …/recovery-link.
type recoveryLinkRequest struct {
	Reason string `json:"reason"`
	TTL    string `json:"ttl"`
}

func (s *Server) handleAdminRecoveryLinkCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req recoveryLinkRequest
	if err := decodeStrict(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.RecoveryLinks == nil {
		s.writeError(w, r, errNoDR)
		return
	}
	if req.TTL == "" {
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "ttl is required: a duration such as \"1h\", at most 24h"))
		return
	}
	ttl, err := time.ParseDuration(req.TTL)
	if err != nil {
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "ttl must be a duration such as \"1h\", at most 24h"))
		return
	}
	link, token, err := s.RecoveryLinks.MintRecoveryLink(r.Context(), adminActor, c.customerID, req.Reason, ttl)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("recovery link minted", "customer_id", c.customerID, "expires_at", link.ExpiresAt)
	writeJSON(w, http.StatusCreated, map[string]any{
		"url":        hub.RecoveryLinkURL(s.publicBase(r), c.customerID, token),
		"expires_at": link.ExpiresAt,
	})
}

// recoveryTokenLen is the length of a link's token: 32 random bytes in hex.
const recoveryTokenLen = 64

// authenticateRecoveryLink consumes the path customer's link named by the
// query's token, rate-limited per client address like retrieval passwords.
// An unknown token is 401; a used or expired link is 410. Each outcome but
// success is audited here; success is audited once the body is ready.
func (s *Server) authenticateRecoveryLink(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := hub.ValidateCustomerID(id); err != nil {
		return err
	}
	ctx, addr := r.Context(), clientAddress(r, s.TrustedProxies)
	wait, err := s.admitRetrievalAttempt(ctx, addr, id)
	if err != nil {
		return err
	}
	if wait > 0 {
		s.auditRetrieval(r, id, hub.RetrievalRecovery, hub.RetrievalByLink, hub.RetrievalRateLimited, "")
		return tooManyRetrievals(w, wait)
	}
	if s.RecoveryAccess == nil {
		return errNoDR
	}
	token := r.URL.Query().Get("token")
	if _, herr := hex.DecodeString(token); len(token) != recoveryTokenLen || herr != nil {
		s.auditRetrieval(r, id, hub.RetrievalRecovery, hub.RetrievalByLink, hub.RetrievalDenied, "malformed token")
		return errLinkDenied
	}
	res, err := s.RecoveryAccess.ConsumeRecoveryLink(ctx, id, hub.HashSecret(token))
	if err != nil {
		s.refundRetrievalAttempt(ctx, addr, id)
		return err
	}
	reason := ""
	if res.Link != nil {
		reason = "reason: " + res.Link.Reason
	}
	switch res.Outcome {
	case hub.RetrievalOK:
		s.refundRetrievalAttempt(ctx, addr, id)
		c.customerID, c.linkReason = id, reason
		return nil
	case hub.RetrievalUsed, hub.RetrievalExpired:
		s.refundRetrievalAttempt(ctx, addr, id) // the token was right
		s.auditRetrieval(r, id, hub.RetrievalRecovery, hub.RetrievalByLink, res.Outcome, reason)
		if res.Outcome == hub.RetrievalUsed {
			return errLinkGone("this recovery link has been used already; ask for a new one")
		}
		return errLinkGone("this recovery link has expired; ask for a new one")
	}
	s.auditRetrieval(r, id, hub.RetrievalRecovery, hub.RetrievalByLink, hub.RetrievalDenied, "unknown token")
	return errLinkDenied
}

// errLinkDenied answers a token that names no link of the customer.
var errLinkDenied = hub.Errorf(hub.EUNAUTHORIZED, "unknown customer or invalid recovery link")

// linkGone is a used or expired link: 410 Gone.
type linkGone string

func (e linkGone) Error() string { return string(e) }

func errLinkGone(msg string) error { return linkGone(msg) }

func (s *Server) handleRecoveryLinkGet(w http.ResponseWriter, r *http.Request, c *caller) {
	s.serveRecovery(w, r, c.customerID, hub.RetrievalByLink, c.linkReason)
}

// auditRetrieval records one retrieval; a failure to record a failed one
// is logged (the request fails anyway).
func (s *Server) auditRetrieval(r *http.Request, id, resource, via, outcome, detail string) error {
	if s.RecoveryAccess == nil {
		// Fail closed: the keys are never handed out unrecorded.
		return hub.Errorf(hub.EINTERNAL, "api: Server.RecoveryAccess is not set: retrievals cannot be audited")
	}
	err := s.RecoveryAccess.CreateRetrieval(r.Context(), &hub.Retrieval{CustomerID: id, Resource: resource, Via: via,
		Outcome: outcome, Client: clientAddress(r, s.TrustedProxies), Detail: detail})
	if err != nil {
		s.Logger.Error("retrieval audit row not written", "customer_id", id, "resource", resource, "outcome", outcome, slog.Any("error", err))
	}
	return err
}

// retrievalResource names what a retrieval route serves.
func retrievalResource(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/v1/config/") {
		return hub.RetrievalConfig
	}
	return hub.RetrievalRecovery
}

// noticeRecoveryRetrieved tells the customer of a recovery download; a
// notice that cannot be queued is logged, the download stands.
func (s *Server) noticeRecoveryRetrieved(ctx context.Context, id string) {
	if s.RecoveryNotices == nil {
		return
	}
	if err := s.RecoveryNotices.NotifyRecoveryRetrieved(ctx, id, s.Now()); err != nil {
		s.Logger.Error("recovery download notice not queued", "customer_id", id, slog.Any("error", err))
	}
}

// markDR tells the DR checker that a customer's facts changed.
func (s *Server) markDR(customerID string) {
	if s.DRChanged != nil {
		s.DRChanged(customerID)
	}
}
