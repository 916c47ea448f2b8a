package api

import (
	"context"
	"net/http"
)

// ingest is the shape every ingest route shares: read the body (the body
// budget is claimed only now, after authentication), parse it, check that
// the principal may act for the customer or host it names, store it,
// reply. T is what the body parses into.
type ingest[T any] struct {
	// parse reads the body. It comes before the principal's check, as only
	// the body says whom it is for: a 400 for a malformed body comes before
	// a 403.
	parse func(body []byte) (T, error)
	// subject is the customer (customer routes) or the host (host routes)
	// that v names.
	subject func(v T) string
	// store keeps v and returns the status and body of the reply.
	store func(ctx context.Context, v T) (int, any, error)
}

// serve runs the steps for one request; a refusal is told to the route's
// refusal hook with the subject the body claimed.
func (in ingest[T]) serve(s *Server, w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := in.parse(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	subject := in.subject(v)
	if err := c.mayActFor(subject); err != nil {
		c.refuse(w, r, subject, err)
		s.writeError(w, r, err)
		return
	}
	status, reply, err := in.store(r.Context(), v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, reply)
}
