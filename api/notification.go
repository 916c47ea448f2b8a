package api

import (
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

// handlePreferencesSet stores the notification choices a controller syncs.
func (s *Server) handlePreferencesSet(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := hub.ReadCustomerID(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := c.mayActFor(id); err != nil {
		s.writeError(w, r, err)
		return
	}
	current, err := s.Notifications.FindNotificationPrefs(r.Context(), id)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		current, err = nil, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	prefs, err := hub.ParseNotificationPrefs(body, current)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Notifications.SetNotificationPrefs(r.Context(), prefs); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.countProblems("preferences", prefs.Problems)
	writeJSON(w, http.StatusOK, preferencesResponse{Status: "ok", NotificationPrefs: prefs,
		IgnoredEventTypes: prefs.IgnoredEventTypes, FieldProblems: prefs.Problems})
}

// handleNotifyCreate is the legacy relay: a controller's free-form message
// for the operator, queued through the operator channel.
func (s *Server) handleNotifyCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := hub.ParseRelayRequest(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := c.mayActFor(req.CustomerID); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Relayer.RelayNotification(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.countProblems("notify", req.Problems)
	res.FieldProblems = req.Problems
	writeJSON(w, http.StatusOK, res)
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
