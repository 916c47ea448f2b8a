package api

import (
	"net/http"
	"strings"

	hub "github.com/felhom/hub"
)

// principal is who a request acts as: the global key, one customer's key
// or one host's key. The route's auth class decides which of them it may
// be (guard).
type principal struct {
	global     bool
	customerID string    // set for a per-customer key
	host       *hub.Host // set for a per-host key
	// token is set for an API token (api.admin_api_key included);
	// operator for a dashboard session. Both read every customer.
	token    *hub.APIToken
	operator *hub.Operator
}

// canActFor returns EFORBIDDEN unless the principal may act for customerID.
func (p principal) canActFor(customerID string) error {
	if p.global || p.token != nil || p.operator != nil || (p.customerID != "" && p.customerID == customerID) {
		return nil
	}
	return hub.Errorf(hub.EFORBIDDEN, "this API key may not act for customer %s", customerID)
}

// canReportFor returns EFORBIDDEN unless the principal may report for hostID.
func (p principal) canReportFor(hostID string) error {
	if p.global || (p.host != nil && p.host.ID == hostID) {
		return nil
	}
	return hub.Errorf(hub.EFORBIDDEN, "this API key may not report for host %s", hostID)
}

// requireGlobal returns EFORBIDDEN unless the principal holds the global key.
func (p principal) requireGlobal() error {
	if p.global {
		return nil
	}
	return hub.Errorf(hub.EFORBIDDEN, "this endpoint needs the global API key")
}

// holder names whose share of the body budget the request's body is taken
// from: a customer's key and the keys of all its hosts share one; the
// global key, which manual nodes share, and requests without a key are
// held per client address.
func (p principal) holder(r *http.Request, s *Server) string {
	switch {
	case p.host != nil:
		return customerHolder(p.host.CustomerID)
	case p.customerID != "":
		return customerHolder(p.customerID)
	}
	return "address:" + clientAddress(r, s.TrustedProxies)
}

// customerHolder is the body-budget holder of every key of customerID.
func customerHolder(customerID string) string { return "customer:" + customerID }

// bearerKey extracts the key of an "Authorization: Bearer <key>" header.
func bearerKey(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", hub.Errorf(hub.EUNAUTHORIZED, "missing Authorization header")
	}
	scheme, key, ok := strings.Cut(h, " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", hub.Errorf(hub.EUNAUTHORIZED, "Authorization header must be 'Bearer <key>'")
	}
	return key, nil
}

// authenticate resolves the request's key to a principal: the global key,
// an API token or a per-customer key; on the classes that take them, a
// dashboard session when no key is sent. Anything else is EUNAUTHORIZED.
// Which principals the route's class admits is decided by admitPrincipal.
func (s *Server) authenticate(r *http.Request, class Auth) (principal, error) {
	if r.Header.Get("Authorization") == "" && class.takesSessions() && s.Sessions != nil {
		return s.authenticateSession(r)
	}
	key, err := bearerKey(r)
	if err != nil {
		return principal{}, err
	}
	if s.GlobalKey != "" && hub.SecretEqual(key, s.GlobalKey) {
		return principal{global: true}, nil
	}
	if p, ok, err := s.authenticateToken(r, key); ok || err != nil {
		return p, err
	}
	id, err := s.Customers.AuthenticateCustomerKey(r.Context(), key)
	if err != nil {
		return principal{}, err
	}
	return principal{customerID: id}, nil
}

// authenticateHost resolves the key of a host-endpoint request: the global
// key or a per-host key. Customer keys are not valid here, as host keys are
// not valid on controller endpoints (authenticate never looks at hosts):
// both are EUNAUTHORIZED.
func (s *Server) authenticateHost(r *http.Request) (principal, error) {
	key, err := bearerKey(r)
	if err != nil {
		return principal{}, err
	}
	if s.GlobalKey != "" && hub.SecretEqual(key, s.GlobalKey) {
		return principal{global: true}, nil
	}
	h, err := s.Hosts.FindHostByAPIKey(r.Context(), key)
	if err != nil {
		return principal{}, err
	}
	return principal{host: h}, nil
}
