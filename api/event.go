package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// eventCreatedResponse is the answer to a posted event.
type eventCreatedResponse struct {
	ID            int64             `json:"id"`
	FieldProblems hub.FieldProblems `json:"field_problems,omitempty"`
}

func (s *Server) handleEventCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	ingest[*hub.Event]{
		parse:   func(body []byte) (*hub.Event, error) { return hub.ParseEvent(body, s.Now()) },
		subject: func(e *hub.Event) string { return e.CustomerID },
		store:   s.storeEvent,
	}.serve(s, w, r, c)
}

// storeEvent keeps an event; the answer carries its id.
func (s *Server) storeEvent(ctx context.Context, e *hub.Event) (int, any, error) {
	if err := s.Events.CreateEvent(ctx, e); err != nil {
		return 0, nil, err
	}
	s.countProblems("event", e.Problems)
	return http.StatusCreated, eventCreatedResponse{ID: e.ID, FieldProblems: e.Problems}, nil
}

// eventListResponse is a customer's events, newest first.
type eventListResponse struct {
	CustomerID string       `json:"customer_id"`
	Events     []*hub.Event `json:"events"`
}

func (s *Server) handleEventList(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	f, err := parseEventFilter(r.URL.Query(), s.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f.CustomerID = id
	if _, err := s.Customers.FindCustomerByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	events, err := s.Events.FindEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventListResponse{CustomerID: id, Events: events})
}

// parseEventFilter reads severity, since and limit:
//   - severity: info, warning or error, or a comma-separated list of them;
//   - since: an RFC 3339 time, or a period back from now such as 24h or 7d;
//   - limit: 1 to 1000, default 100.
func parseEventFilter(q url.Values, now time.Time) (hub.EventFilter, error) {
	f := hub.EventFilter{Limit: hub.DefaultEventLimit}
	if v := q.Get("severity"); v != "" {
		for sev := range strings.SplitSeq(v, ",") {
			if !hub.ValidSeverity(sev) {
				return f, hub.Errorf(hub.EINVALID, "severity must be info, warning or error, or a comma-separated list of them")
			}
			f.Severities = append(f.Severities, sev)
		}
	}
	if v := q.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			f.Since = t
		} else if d, err := hub.ParsePeriod(v); err == nil {
			f.Since = now.Add(-d)
		} else {
			return f, hub.Errorf(hub.EINVALID, "since must be an RFC 3339 time such as 2026-11-22T09:45:03Z or a period between 1h and 90d such as 24h or 7d")
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > hub.MaxEventLimit {
			return f, hub.Errorf(hub.EINVALID, "limit must be a whole number between 1 and %d", hub.MaxEventLimit)
		}
		f.Limit = n
	}
	return f, nil
}
