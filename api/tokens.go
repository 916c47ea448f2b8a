package api

import (
	"net/http"
	"time"

	hub "github.com/felhom/hub"
)

// tokenCreateRequest is the body of POST /api/v1/admin/tokens.
type tokenCreateRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// maxTokenLifetime bounds expires_at: far enough for any automation, near
// enough that a typo does not make a token that outlives the hub.
const maxTokenLifetime = 10 * 366 * 24 * time.Hour

// NewAPIToken checks a token request and returns the token to store with
// the plain token, shown once. The dashboard and hub token add use it too.
func NewAPIToken(name string, scopes []string, expiresAt *time.Time, createdBy string, now time.Time) (*hub.APIToken, string, error) {
	if err := hub.ValidateTokenName(name); err != nil {
		return nil, "", err
	}
	sc, err := hub.ParseScopes(scopes)
	if err != nil {
		return nil, "", err
	}
	if expiresAt != nil {
		e := expiresAt.UTC()
		if !e.After(now) {
			return nil, "", hub.Errorf(hub.EINVALID, "expires_at must be in the future")
		}
		if e.Sub(now) > maxTokenLifetime {
			return nil, "", hub.Errorf(hub.EINVALID, "expires_at must be within 10 years")
		}
		expiresAt = &e
	}
	plain := hub.NewAPIToken()
	return &hub.APIToken{Name: name, Scopes: sc, ExpiresAt: expiresAt, CreatedBy: createdBy, TokenHash: hub.HashSecret(plain)}, plain, nil
}

func (s *Server) handleAdminTokenCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req tokenCreateRequest
	if err := decodeStrict(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, plain, err := NewAPIToken(req.Name, req.Scopes, req.ExpiresAt, c.principal.actor(), s.Now())
	if err == nil {
		err = s.Tokens.CreateAPIToken(r.Context(), t)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit(r, "token.create", nil, "id "+t.ID+", name "+hub.Printable(t.Name, 64))
	s.Logger.Info("API token created", "token_id", t.ID, "by", c.principal.actor())
	writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "token": plain, "name": t.Name,
		"scopes": t.Scopes, "expires_at": t.ExpiresAt})
}

func (s *Server) handleAdminTokenList(w http.ResponseWriter, r *http.Request, _ *caller) {
	tokens, err := s.Tokens.FindAPITokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": tokens})
}

func (s *Server) handleAdminTokenDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("token_id")
	if len(id) > 64 {
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "token id is too long"))
		return
	}
	err := s.Tokens.DeleteAPIToken(r.Context(), id)
	s.audit(r, "token.revoke", err, "id "+hub.Printable(id, 64))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "revoked": true})
}

func (s *Server) handleAdminCustomerRotateRetrievalPassword(w http.ResponseWriter, r *http.Request, c *caller) {
	password, err := s.Fleet.RotateRetrievalPassword(r.Context(), adminActor, c.customerID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("retrieval password rotated", "customer_id", c.customerID)
	writeJSON(w, http.StatusOK, map[string]string{"customer_id": c.customerID, "retrieval_password": password})
}

// audit writes an entry for an action of the request's actor; a failure
// is logged, the action has happened.
func (s *Server) audit(r *http.Request, action string, err error, detail string) {
	e := &hub.AuditEntry{Actor: hub.ActorFrom(r.Context()), Action: action, Result: hub.AuditOK, Detail: detail}
	if err != nil {
		e.Result, e.Detail = hub.AuditError, hub.ErrorMessage(err)
	}
	if aerr := s.Audit.CreateAuditEntry(r.Context(), e); aerr != nil {
		s.Logger.Error("audit entry not written", "action", action, "error", aerr)
	}
}
