package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// The credential classes of operators and automation (SPEC §7.5).
const (
	// AuthAdmin takes an admin-scoped API token (api.admin_api_key
	// included) or an admin's dashboard session. The global report key
	// is no credential here (401): a manual node holds it. A read token or
	// a viewer's session is 403.
	AuthAdmin Auth = "admin"
	// AuthRead reads the whole fleet: the global key, a read or admin
	// token, or a dashboard session. A customer's key is 403.
	AuthRead Auth = "read"
	// AuthCustomerRead reads one customer: what AuthRead takes, or that
	// customer's own key (another customer's is 403).
	AuthCustomerRead Auth = "customer-read"
)

// bootstrapTokenName names api.admin_api_key in lists and the audit log.
const bootstrapTokenName = "api.admin_api_key"

// SessionAuthenticator resolves a dashboard session cookie to its operator
// (*web.Server): the dashboard's own pages may call the API.
type SessionAuthenticator interface {
	// SessionOperator returns the operator whose live session r carries;
	// EUNAUTHORIZED when none.
	SessionOperator(r *http.Request) (*hub.Operator, error)
}

// takesSessions reports whether a class accepts a dashboard session.
func (a Auth) takesSessions() bool {
	return a == AuthAdmin || a == AuthRead || a == AuthCustomerRead
}

// actor names the principal in the audit log: "" for node keys, whose
// routes record nothing under a person's name.
func (p principal) actor() string {
	switch {
	case p.token != nil:
		return "token:" + p.token.Name
	case p.operator != nil:
		return "operator:" + p.operator.Name
	}
	return ""
}

// admitPrincipal decides whether the principal authenticate found may use
// a route of class: EUNAUTHORIZED when it is no credential for it,
// EFORBIDDEN when it is one without the right.
func (s *Server) admitPrincipal(r *http.Request, class Auth, p principal) error {
	isNode := p.global || p.customerID != "" || p.host != nil
	switch class {
	case AuthCustomer:
		if !isNode {
			return hub.Errorf(hub.EUNAUTHORIZED, "this endpoint takes a node's API key, not an operator's credential")
		}
	case AuthGlobal:
		if !isNode {
			return hub.Errorf(hub.EUNAUTHORIZED, "this endpoint takes the global API key")
		}
		return p.requireGlobal()
	case AuthRead:
		if p.customerID != "" {
			return hub.Errorf(hub.EFORBIDDEN, "this endpoint needs the global API key or a read token")
		}
		return p.readScope()
	case AuthCustomerRead:
		if p.customerID != "" {
			return nil // the path's customer is checked next
		}
		return p.readScope()
	case AuthAdmin:
		if isNode {
			return hub.Errorf(hub.EUNAUTHORIZED, "the admin API takes an admin token (api.admin_api_key or one made with hub token add), not a node's API key")
		}
		if err := p.adminScope(); err != nil {
			return err
		}
		if p.operator != nil {
			// A browser sends the cookie by itself: a cross-site form
			// must not act with it.
			if err := crossOrigin.Check(r); err != nil {
				return hub.Errorf(hub.EFORBIDDEN, "cross-origin request refused")
			}
		}
	}
	return nil
}

// crossOrigin refuses cross-site browser requests made with a session.
var crossOrigin = http.NewCrossOriginProtection()

// readScope returns EFORBIDDEN unless the principal may read the fleet.
func (p principal) readScope() error {
	switch {
	case p.global, p.operator != nil:
		return nil
	case p.token != nil && p.token.Has(hub.ScopeRead):
		return nil
	}
	return hub.Errorf(hub.EFORBIDDEN, "this credential may not read the fleet")
}

// adminScope returns EFORBIDDEN unless the principal may use the admin API.
func (p principal) adminScope() error {
	switch {
	case p.operator != nil && p.operator.Role == hub.RoleAdmin:
		return nil
	case p.token != nil && p.token.Has(hub.ScopeAdmin):
		return nil
	case p.operator != nil:
		return hub.Errorf(hub.EFORBIDDEN, "a viewer may not use the admin API")
	}
	return hub.Errorf(hub.EFORBIDDEN, "this token has no admin scope")
}

// Token uses are written at most once a minute per token, and audited at
// most once an hour.
const (
	tokenTouchEvery = time.Minute
	tokenAuditEvery = time.Hour
)

// authenticateToken resolves key when it is api.admin_api_key or an API
// token: ok is false when it is neither (a node key, probably). An
// expired, revoked or unknown token is EUNAUTHORIZED.
func (s *Server) authenticateToken(r *http.Request, key string) (principal, bool, error) {
	if s.AdminKey != "" && hub.SecretEqual(key, s.AdminKey) {
		return principal{token: &hub.APIToken{ID: "bootstrap", Name: bootstrapTokenName, Scopes: []hub.Scope{hub.ScopeAdmin}}}, true, nil
	}
	if !strings.HasPrefix(key, hub.APITokenPrefix) || s.Tokens == nil {
		return principal{}, false, nil
	}
	t, err := s.Tokens.FindAPITokenByHash(r.Context(), hub.HashSecret(key))
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
		return principal{}, true, hub.Errorf(hub.EUNAUTHORIZED, "unknown or revoked API token")
	case err != nil:
		return principal{}, true, err
	}
	now := s.Now()
	if t.Expired(now) {
		return principal{}, true, hub.Errorf(hub.EUNAUTHORIZED, "this API token has expired")
	}
	s.noteTokenUse(r.Context(), t, now)
	return principal{token: t}, true, nil
}

// noteTokenUse records the token's last use and audits it once an hour.
// A failure is logged: the request itself is authenticated.
func (s *Server) noteTokenUse(ctx context.Context, t *hub.APIToken, now time.Time) {
	if t.LastUsed != nil && now.Sub(*t.LastUsed) < tokenTouchEvery {
		return
	}
	ctx = context.WithoutCancel(ctx)
	touched, err := s.Tokens.TouchAPIToken(ctx, t.ID, now, tokenTouchEvery)
	if err != nil {
		s.Logger.Error("token use not recorded", "token", t.Name, slog.Any("error", err))
		return
	}
	if !touched || (t.LastUsed != nil && now.Sub(*t.LastUsed) < tokenAuditEvery) {
		return
	}
	e := &hub.AuditEntry{Actor: "token:" + t.Name, Action: "token.use", Result: hub.AuditOK, Detail: "id " + t.ID}
	if err := s.Audit.CreateAuditEntry(ctx, e); err != nil {
		s.Logger.Error("token use not audited", "token", t.Name, slog.Any("error", err))
	}
}

// authenticateSession resolves the dashboard session of a request that
// sent no key.
func (s *Server) authenticateSession(r *http.Request) (principal, error) {
	op, err := s.Sessions.SessionOperator(r)
	if err != nil {
		if hub.ErrorCode(err) == hub.EINTERNAL {
			return principal{}, err
		}
		return principal{}, hub.Errorf(hub.EUNAUTHORIZED, "missing Authorization header")
	}
	return principal{operator: op}, nil
}
