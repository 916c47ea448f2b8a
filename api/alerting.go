package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// silenceResponse is a silence with its state now.
type silenceResponse struct {
	*hub.Silence
	State string `json:"state"`
}

func (s *Server) silenceResponse(sil *hub.Silence) silenceResponse {
	return silenceResponse{Silence: sil, State: sil.State(s.Now())}
}

func (s *Server) handleAdminSilenceCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := hub.DecodeJSONObject(body, &map[string]any{}); err != nil {
		s.writeError(w, r, err)
		return
	}
	sil, err := hub.ParseSilence(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Fleet.CreateSilence(r.Context(), adminActor, sil); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("silence created", "silence_id", sil.ID, "customer_id", sil.CustomerID)
	writeJSON(w, http.StatusCreated, s.silenceResponse(sil))
}

// silenceListResponse is a list of silences, newest first.
type silenceListResponse struct {
	Silences []silenceResponse `json:"silences"`
}

func (s *Server) handleAdminSilenceList(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	f := hub.SilenceFilter{Limit: hub.DefaultSilenceListSize}
	switch state := q.Get("state"); state {
	case "", hub.SilenceActive, hub.SilenceUpcoming, hub.SilenceExpired:
		f.State = state
	default:
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "state must be active, upcoming or expired"))
		return
	}
	if v := q.Get("customer_id"); v != "" {
		if hub.ValidateCustomerID(v) != nil {
			s.writeError(w, r, hub.Errorf(hub.EINVALID, "customer_id is not a customer id"))
			return
		}
		f.CustomerID = v
	}
	if s.Alerts == nil {
		s.writeError(w, r, hub.Errorf(hub.EUNAVAILABLE, "silencing is not available on this hub"))
		return
	}
	silences, err := s.Alerts.FindSilences(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := silenceListResponse{Silences: make([]silenceResponse, 0, len(silences))}
	for _, sil := range silences {
		resp.Silences = append(resp.Silences, s.silenceResponse(sil))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleAdminSilenceEnd(w http.ResponseWriter, r *http.Request, c *caller) {
	id, err := strconv.ParseInt(r.PathValue("silence_id"), 10, 64)
	if err != nil || id < 1 {
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "the silence id must be a positive whole number"))
		return
	}
	sil, err := s.Fleet.EndSilence(r.Context(), adminActor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("silence ended", "silence_id", id)
	writeJSON(w, http.StatusOK, s.silenceResponse(sil))
}

// ackRequest is the body of POST /api/v1/admin/customers/{id}/ack.
type ackRequest struct {
	Note string `json:"note"`
}

func (s *Server) handleAdminCustomerAck(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req ackRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ack, err := s.Fleet.Acknowledge(r.Context(), adminActor, c.customerID, req.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("open problems acknowledged", "customer_id", c.customerID, "problems", len(ack.Problems))
	writeJSON(w, http.StatusOK, ack)
}

// fleetEventListResponse is the fleet's events, newest first.
type fleetEventListResponse struct {
	Events []*hub.Event `json:"events"`
}

func (s *Server) handleFleetEventList(w http.ResponseWriter, r *http.Request, c *caller) {
	f, err := parseFleetEventFilter(r.URL.Query(), s.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	events, err := s.Events.FindEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fleetEventListResponse{Events: events})
}

// parseFleetEventFilter reads the customer events' parameters (severity,
// since, limit) and type: an event type name, or a comma-separated list.
func parseFleetEventFilter(q url.Values, now time.Time) (hub.EventFilter, error) {
	for key := range q {
		switch key {
		case "type", "severity", "since", "limit":
		default:
			return hub.EventFilter{}, hub.Errorf(hub.EINVALID, "unknown parameter %q: use type, severity, since or limit", cutParam(key))
		}
	}
	f, err := parseEventFilter(q, now)
	if err != nil {
		return f, err
	}
	if v := q.Get("type"); v != "" {
		for t := range strings.SplitSeq(v, ",") {
			if !hub.ValidEventTypeName(t) {
				return f, hub.Errorf(hub.EINVALID, "type must be an event type such as node_down, or a comma-separated list of them")
			}
			f.Types = append(f.Types, t)
		}
		if len(f.Types) > hub.MaxSilenceEventTypes {
			return f, hub.Errorf(hub.EINVALID, "type may name at most %d types", hub.MaxSilenceEventTypes)
		}
	}
	return f, nil
}

// cutParam shortens a parameter name for an error message.
func cutParam(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ToValidUTF8(s, "?")
}
