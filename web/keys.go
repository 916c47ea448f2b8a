package web

import (
	"context"
	"time"

	hub "github.com/felhom/hub"
)

// KeyStateView says whether the customer's node may be locked out: a key
// rotation it has not caught up with, and reports the hub refused.
type KeyStateView struct {
	ID string
	// RotatedAt is set while a rotated-out key is kept (valid or not).
	RotatedAt string
	// PreviousValidUntil is when the previous key stops (or stopped)
	// being accepted; GraceOver says it has.
	PreviousValidUntil string
	GraceOver          bool
	// CanPush says the hub can call the controller (it has reported its URL).
	CanPush bool

	Refused *RefusedView
}

// RefusedView is the count of reports refused for the customer.
type RefusedView struct {
	Count int64
	// Noun is "report" or "reports", as Count needs.
	Noun       string
	LastAt     string
	LastAgo    string
	LastReason string
}

// refusedWindow is how far back the page counts refused reports.
const refusedWindow = 24 * time.Hour

// keyStateView returns the key state of a customer, nil when there is
// nothing to say.
func (s *Server) keyStateView(ctx context.Context, c *hub.Customer, cfg *hub.CustomerConfig, now time.Time) *KeyStateView {
	v := &KeyStateView{ID: c.ID, CanPush: c.Latest != nil && c.Latest.ControllerURL != ""}
	if cfg != nil && cfg.Rotation.PreviousAPIKey != "" {
		v.RotatedAt = formatTime(cfg.Rotation.RotatedAt, s.Location)
		v.PreviousValidUntil = formatTime(cfg.Rotation.PreviousValidUntil, s.Location)
		v.GraceOver = cfg.Rotation.PreviousExpired(now)
	}
	// Counted by the hour: the window starts at the hour 24 h ago.
	got, err := s.Plugs.RefusedReports.FindRefusedReports(ctx, c.ID, now.Add(-refusedWindow).Truncate(time.Hour))
	if err != nil {
		s.logPlugError("refused reports", c.ID, err)
	} else if got.Refused > 0 {
		v.Refused = &RefusedView{Count: got.Refused, Noun: "reports", LastAt: formatTime(got.LastAt, s.Location),
			LastAgo: ago(now, got.LastAt), LastReason: got.LastReason}
	}
	if v.Refused != nil && v.Refused.Count == 1 {
		v.Refused.Noun = "report"
	}
	if v.RotatedAt == "" && v.Refused == nil {
		return nil
	}
	return v
}
