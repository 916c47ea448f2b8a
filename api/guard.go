package api

import (
	"fmt"
	"net/http"
	"strings"

	hub "github.com/felhom/hub"
)

// handler serves a request that its route's auth has let through; c is
// what the auth established.
type handler func(w http.ResponseWriter, r *http.Request, c *caller)

// caller is what a route's auth established about one request. The route
// wrapper (guard) makes it; handlers read it and never authenticate.
type caller struct {
	auth      Auth
	principal principal
	// customerID is the customer the path names ({id}): valid, and one the
	// principal may act for (on retrieval routes: whose password was
	// given). "" on routes without one.
	customerID string
	// linkReason is the audit detail of a consumed recovery link.
	linkReason string
	// ticket is the request's claim on the body budget, taken from the
	// principal's holder when readBody reads the body.
	ticket *ticket
	// refused, when set, hears of each request the route refuses with 401
	// or 403.
	refused refusalHook
}

// refusalHook hears of a refused request: claimed is the customer the body
// names once it has been read, "" before.
type refusalHook func(w http.ResponseWriter, r *http.Request, p principal, claimed string, err error)

// mayActFor returns EFORBIDDEN unless the principal may act for subject,
// the customer (customer routes) or the host (host routes) a body names.
func (c *caller) mayActFor(subject string) error {
	if c.auth == AuthHost {
		return c.principal.canReportFor(subject)
	}
	return c.principal.canActFor(subject)
}

// refuse tells the route's refusal hook, if it has one, of a refusal.
func (c *caller) refuse(w http.ResponseWriter, r *http.Request, claimed string, err error) {
	if c.refused != nil {
		c.refused(w, r, c.principal, claimed, err)
	}
}

// reportPath is the route whose refusals feed Server.Refused.
const reportPath = "/api/v1/report"

// onRefused returns what hears of rt's refusals: only reports, which
// every node sends, are counted, so that a node locked out after a key
// rotation shows on its customer's page.
func (s *Server) onRefused(rt Route) refusalHook {
	if rt.Method == "POST" && rt.Path == reportPath {
		return s.noteRefusedReport
	}
	return nil
}

// known reports whether a is one of the route table's auth classes.
func (a Auth) known() bool {
	switch a {
	case AuthPublic, AuthCustomer, AuthGlobal, AuthHost, AuthRetrieval,
		AuthRead, AuthCustomerRead, AuthAdmin, AuthRecoveryLink:
		return true
	}
	return false
}

// guard wraps a route's handler with the auth its entry declares: the
// handler runs only for a request that passes, and is handed what the auth
// established. Authentication comes before anything reads the body, so
// that clients without a key cannot hold the body budget; the ticket's
// holder follows from the principal.
func (s *Server) guard(rt Route) http.HandlerFunc {
	if !rt.Auth.known() {
		// A route the wrapper cannot check must not be served unchecked.
		panic(fmt.Sprintf("api: route %s has unknown auth class %q", rt.Pattern(), rt.Auth))
	}
	pathCustomer := strings.Contains(rt.Path, "{id}")
	refused := s.onRefused(rt)
	return func(w http.ResponseWriter, r *http.Request) {
		c := &caller{auth: rt.Auth, refused: refused}
		if err := s.admit(w, r, c, pathCustomer); err != nil {
			c.refuse(w, r, "", err)
			s.writeError(w, r, err)
			return
		}
		if actor := c.principal.actor(); actor != "" {
			r = r.WithContext(hub.WithActor(r.Context(), actor))
		}
		c.ticket = &ticket{budget: s.Bodies, holder: c.principal.holder(r, s)}
		defer c.ticket.release()
		rt.handler(w, r, c)
	}
}

// admit checks the request against c.auth, in this order: the credentials
// (401), the global key on global routes (403), the path's customer id
// (400), and whether the principal may act for it (403). It fills in c.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, c *caller, pathCustomer bool) error {
	var err error
	switch c.auth {
	case AuthPublic:
		return nil
	case AuthRetrieval:
		c.customerID, err = s.authenticateRetrieval(w, r)
		return err
	case AuthRecoveryLink:
		return s.authenticateRecoveryLink(w, r, c)
	case AuthHost:
		c.principal, err = s.authenticateHost(r)
	case AuthCustomer, AuthGlobal, AuthRead, AuthCustomerRead, AuthAdmin:
		c.principal, err = s.authenticate(r, c.auth)
	default: // guard refuses such a route; fail closed all the same
		return hub.Errorf(hub.EINTERNAL, "route has unknown auth class %q", c.auth)
	}
	if err != nil {
		return err
	}
	if err := s.admitPrincipal(r, c.auth, c.principal); err != nil {
		return err
	}
	if !pathCustomer {
		return nil
	}
	id := r.PathValue("id")
	if err := hub.ValidateCustomerID(id); err != nil {
		return err
	}
	if err := c.principal.canActFor(id); err != nil {
		return err
	}
	c.customerID = id
	return nil
}
