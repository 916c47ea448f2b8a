package api

import (
	"context"
	"net/http"
	"strconv"

	hub "github.com/felhom/hub"
)

// preferencesResponse echoes the stored preferences.
type preferencesResponse struct {
	Status string `json:"status"`
	*hub.NotificationPrefs
	// IgnoredEventTypes are the unknown types of enabled_events (SPEC §2.10).
	IgnoredEventTypes []string          `json:"ignored_event_types"`
	FieldProblems     hub.FieldProblems `json:"field_problems,omitempty"`
}

// preferencesBody is a preferences body and the customer it names: the
// body is parsed in full only after the principal's check, over the
// preferences stored so far.
type preferencesBody struct {
	customerID string
	body       []byte
}

// handlePreferencesSet stores the notification choices a controller syncs.
func (s *Server) handlePreferencesSet(w http.ResponseWriter, r *http.Request, c *caller) {
	ingest[preferencesBody]{
		parse: func(body []byte) (preferencesBody, error) {
			id, err := hub.ReadCustomerID(body)
			return preferencesBody{customerID: id, body: body}, err
		},
		subject: func(p preferencesBody) string { return p.customerID },
		store:   s.storePreferences,
	}.serve(s, w, r, c)
}

// storePreferences parses the body over the stored preferences (a field
// present but unreadable keeps its stored value) and keeps the result.
func (s *Server) storePreferences(ctx context.Context, p preferencesBody) (int, any, error) {
	current, err := s.Notifications.FindNotificationPrefs(ctx, p.customerID)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		current, err = nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	prefs, err := hub.ParseNotificationPrefs(p.body, current)
	if err != nil {
		return 0, nil, err
	}
	if err := s.Notifications.SetNotificationPrefs(ctx, prefs); err != nil {
		return 0, nil, err
	}
	s.countProblems("preferences", prefs.Problems)
	return http.StatusOK, preferencesResponse{Status: "ok", NotificationPrefs: prefs,
		IgnoredEventTypes: prefs.IgnoredEventTypes, FieldProblems: prefs.Problems}, nil
}

// handleNotifyCreate is the legacy relay: a controller's free-form message
// for the operator, queued through the operator channel.
func (s *Server) handleNotifyCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	ingest[*hub.RelayRequest]{
		parse:   hub.ParseRelayRequest,
		subject: func(req *hub.RelayRequest) string { return req.CustomerID },
		store:   s.storeNotify,
	}.serve(s, w, r, c)
}

// storeNotify queues the relayed message.
func (s *Server) storeNotify(ctx context.Context, req *hub.RelayRequest) (int, any, error) {
	res, err := s.Relayer.RelayNotification(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	s.countProblems("notify", req.Problems)
	res.FieldProblems = req.Problems
	return http.StatusOK, res, nil
}

// notificationListResponse is a customer's notification history, newest
// first, and what of it is still undelivered.
type notificationListResponse struct {
	CustomerID    string              `json:"customer_id"`
	Outbox        hub.OutboxStats     `json:"outbox"`
	Notifications []*hub.Notification `json:"notifications"`
}

// handleNotificationList needs the global key: the rows name the operator's
// address, which is none of a customer's business.
func (s *Server) handleNotificationList(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	f := hub.NotificationFilter{CustomerID: id, Limit: hub.DefaultEventLimit}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > hub.MaxEventLimit {
			s.writeError(w, r, hub.Errorf(hub.EINVALID, "limit must be a whole number between 1 and %d", hub.MaxEventLimit))
			return
		}
		f.Limit = n
	}
	switch v := r.URL.Query().Get("status"); v {
	case "", hub.NotificationQueued, hub.NotificationSent, hub.NotificationSkipped, hub.NotificationFailed:
		f.Status = v
	default:
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "status must be queued, sent, skipped or failed"))
		return
	}
	if _, err := s.Customers.FindCustomerByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	rows, err := s.Notifications.FindNotifications(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stats, err := s.Notifications.FindOutboxStats(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, notificationListResponse{CustomerID: id, Outbox: stats[id], Notifications: rows})
}
