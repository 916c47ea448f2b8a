package api

import "net/http"

// Admitted is what the route wrapper handed a handler.
type Admitted struct {
	Global     bool
	CustomerID string // the customer of a customer key
	HostID     string // the host of a host key
	// PathCustomer is the checked customer of the path; PathID the path's
	// raw {id}.
	PathCustomer, PathID string
	// Holder is whose share of the body budget the body would take.
	Holder string
	// Actor is the operator or token the audit log names; "" for node keys.
	Actor string
}

// RegisterForgetful registers the route table as Register does, with
// handlers that check nothing, as a handler that forgot to would: each
// tells reached what the wrapper handed it and answers 200.
func (s *Server) RegisterForgetful(mux *http.ServeMux, reached func(Route, Admitted)) {
	s.setDefaults()
	routes := s.Routes()
	for i, rt := range routes {
		routes[i].handler = func(w http.ResponseWriter, r *http.Request, c *caller) {
			a := Admitted{Global: c.principal.global, CustomerID: c.principal.customerID,
				PathCustomer: c.customerID, PathID: r.PathValue("id"), Holder: c.ticket.holder,
				Actor: c.principal.actor()}
			if c.principal.host != nil {
				a.HostID = c.principal.host.ID
			}
			reached(rt, a)
			writeJSON(w, http.StatusOK, map[string]string{"status": "reached"})
		}
	}
	s.register(mux, routes)
}

// RegisterRoutes registers routes as Register registers the route table.
func (s *Server) RegisterRoutes(mux *http.ServeMux, routes []Route) {
	s.setDefaults()
	s.register(mux, routes)
}
