package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// Defaults of RefusedReports.
const (
	// DefaultRefusedFlushInterval is how often the counts are written: a
	// customer's row is written at most this often by one replica, however
	// many refused reports claim it.
	DefaultRefusedFlushInterval = time.Minute
	// DefaultRefusedMaxPending bounds the counts held between writes.
	DefaultRefusedMaxPending = 10000
)

// refusedWindow is how far back the customer page counts refusals.
const refusedWindow = 24 * time.Hour

// claimPeek is how much of a refused report's body is read to find the
// customer_id it claims: controllers send it first.
const claimPeek = 4 << 10

// RefusedReports counts the reports refused for customers that exist (an
// unknown key, another customer's key), so that the customer page can show
// a node locked out after a key rotation. Anyone can claim any id, so
// counting costs no database work per request: ids are checked against a
// set of the customers' ids reloaded every FlushInterval, and counts are
// summed in memory and added to the shared counts (every replica adds its
// own) once per FlushInterval: a customer's counts are written at most that
// often per replica, however many reports claim it, and reach its page
// within about 1.25 FlushInterval. At most MaxPending customer-hours are held
// between writes; more are dropped and said so in the log.
type RefusedReports struct {
	Store         hub.RefusedReportService
	Now           func() time.Time
	Logger        *slog.Logger
	FlushInterval time.Duration
	MaxPending    int

	mu      sync.Mutex
	known   map[string]bool
	pending map[refusedKey]*hub.RefusedReportCount
	dropped int64
	// lastTick is when Tick last wrote and reloaded (by Now).
	lastTick time.Time

	loop   loop.Loop
	opened bool
}

type refusedKey struct {
	customerID string
	hour       int64
}

// NewRefusedReports returns a counter with the default settings.
func NewRefusedReports(store hub.RefusedReportService, logger *slog.Logger) *RefusedReports {
	return &RefusedReports{Store: store, Now: time.Now, Logger: logger,
		FlushInterval: DefaultRefusedFlushInterval, MaxPending: DefaultRefusedMaxPending}
}

// Note counts a refused report for customerID and reports whether it was
// counted: false when no such customer is known (or the id is not one).
func (c *RefusedReports) Note(customerID, reason string) bool {
	if hub.ValidateCustomerID(customerID) != nil {
		return false
	}
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known[customerID] {
		return false
	}
	hour := now.Truncate(time.Hour)
	k := refusedKey{customerID, hour.UnixMilli()}
	p, ok := c.pending[k]
	if !ok {
		if len(c.pending) >= c.maxPending() {
			c.dropped++
			return true
		}
		if c.pending == nil {
			c.pending = map[refusedKey]*hub.RefusedReportCount{}
		}
		p = &hub.RefusedReportCount{CustomerID: customerID, Hour: hour}
		c.pending[k] = p
	}
	p.Refused++
	if !now.Before(p.LastAt) {
		p.LastAt, p.LastReason = now, reason
	}
	return true
}

func (c *RefusedReports) maxPending() int {
	if c.MaxPending <= 0 {
		return DefaultRefusedMaxPending
	}
	return c.MaxPending
}

// Refresh reloads the set of existing customers.
func (c *RefusedReports) Refresh(ctx context.Context) error {
	ids, err := c.Store.FindCustomerIDs(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	c.mu.Lock()
	c.known = known
	c.mu.Unlock()
	return nil
}

// Flush writes the counts held in memory; on failure they are kept for
// the next try.
func (c *RefusedReports) Flush(ctx context.Context) error {
	c.mu.Lock()
	pending, dropped := c.pending, c.dropped
	c.pending, c.dropped = nil, 0
	c.mu.Unlock()
	if dropped > 0 {
		c.Logger.Warn("refused reports not counted: too many customers at once", "dropped", dropped)
	}
	if len(pending) == 0 {
		return nil
	}
	counts := make([]hub.RefusedReportCount, 0, len(pending))
	for _, p := range pending {
		counts = append(counts, *p)
	}
	if err := c.Store.AddRefusedReports(ctx, counts, c.Now().Add(-refusedWindow-time.Hour)); err != nil {
		c.mu.Lock()
		for k, p := range pending {
			if q, ok := c.pending[k]; ok {
				q.Refused += p.Refused
				if p.LastAt.After(q.LastAt) {
					q.LastAt, q.LastReason = p.LastAt, p.LastReason
				}
			} else if len(c.pending) < c.maxPending() {
				if c.pending == nil {
					c.pending = map[refusedKey]*hub.RefusedReportCount{}
				}
				c.pending[k] = p
			}
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// Tick writes the counts and reloads the customers' ids when FlushInterval
// has passed since it last did, by Now; otherwise it does nothing. The
// loop calls it a few times per interval.
func (c *RefusedReports) Tick(ctx context.Context) error {
	now := c.Now()
	c.mu.Lock()
	due := c.lastTick.IsZero() || now.Sub(c.lastTick) >= c.interval()
	if due {
		c.lastTick = now
	}
	c.mu.Unlock()
	if !due {
		return nil
	}
	return errors.Join(c.Flush(ctx), c.Refresh(ctx))
}

func (c *RefusedReports) interval() time.Duration {
	if c.FlushInterval <= 0 {
		return DefaultRefusedFlushInterval
	}
	return c.FlushInterval
}

// Open loads the customers' ids, then calls Tick a few times per
// FlushInterval until Close. A failure is logged and tried again at the
// next tick.
func (c *RefusedReports) Open(ctx context.Context) error {
	c.opened = true
	return c.loop.OpenAfterPass(ctx, loop.Config{
		Run:      c.Tick,
		Interval: c.interval() / 4,
		Logger:   c.Logger,
		Level:    slog.LevelWarn,
		Message:  "refused reports not written or customer ids not reloaded; retrying",
		Name:     "refused reports",
	})
}

// Close stops the loop and writes what is left.
func (c *RefusedReports) Close(ctx context.Context) error {
	if !c.opened {
		return nil
	}
	if err := c.loop.Close(ctx); err != nil {
		return err
	}
	return c.Flush(ctx)
}

// noteRefusedReport counts and logs a report refused with err. claimed is
// the body's customer_id when the body has been read; otherwise the first
// bytes of the body are read to find it. Nothing of the key is logged.
func (s *Server) noteRefusedReport(w http.ResponseWriter, r *http.Request, p principal, claimed string, err error) {
	if s.Refused == nil {
		return
	}
	if code := hub.ErrorCode(err); code != hub.EUNAUTHORIZED && code != hub.EFORBIDDEN {
		return // the hub failed, not the key
	}
	reason := hub.RefusedUnknownKey
	switch {
	case hub.ErrorCode(err) == hub.EFORBIDDEN:
		reason = hub.RefusedOtherCustomer + " (" + p.customerID + ")"
	case r.Header.Get("Authorization") == "":
		reason = hub.RefusedNoKey
	}
	if claimed == "" {
		claimed = claimedCustomerID(w, r)
	}
	if !s.Refused.Note(claimed, reason) {
		return
	}
	s.Logger.Warn("report refused", "customer_id", claimed, "reason", reason,
		"remote", clientAddress(r, s.TrustedProxies))
}

// claimedCustomerID reads the customer_id a report body claims from its
// first claimPeek bytes, within a short read deadline; "" when it is not
// there or not valid.
func claimedCustomerID(w http.ResponseWriter, r *http.Request) string {
	if r.Body == nil || r.Body == http.NoBody {
		return ""
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(2 * time.Second))
	dec := json.NewDecoder(io.LimitReader(r.Body, claimPeek))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if key, _ := tok.(string); key == "customer_id" {
			var id string
			if dec.Decode(&id) != nil || hub.ValidateCustomerID(id) != nil {
				return ""
			}
			return id
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}
