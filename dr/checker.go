// Package dr keeps each customer's disaster-recovery readiness current: it
// gathers the facts (the latest bundle, the latest reports, the config the
// hub generates today), lets hub.EvaluateDR grade them, and stores the
// grade with the event of its change.
package dr

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/internal/loop"
)

// Store is what the checker reads and writes.
type Store interface {
	FindCustomers(ctx context.Context) ([]*hub.Customer, error)
	FindCustomerConfig(ctx context.Context, id string) (*hub.CustomerConfig, error)
	FindLatestInfraBackup(ctx context.Context, customerID string) (*hub.StoredInfraBackup, error)
	FindLatestReport(ctx context.Context, customerID string) (*hub.StoredReport, error)
	// FindLatestHostReportBodies returns the latest report of each of the
	// customer's hosts.
	FindLatestHostReportBodies(ctx context.Context, customerID string) ([]json.RawMessage, error)
	hub.DRService
}

// Renderer generates a customer's controller.yaml (*configgen.Templates).
type Renderer interface {
	Render(cfg *hub.CustomerConfig) ([]byte, error)
}

// Checker grades customers: one at a time when told that a bundle or a
// report arrived (Mark), every managed customer in CheckAll (the daily
// job), and offline in Assess (hub dr-verify).
type Checker struct {
	Store   Store
	Configs Renderer
	// MaxBundleAge and MaxRestoreTestAge: zero means hub's defaults.
	MaxBundleAge      time.Duration
	MaxRestoreTestAge time.Duration
	// Interval is how often marked customers are checked when no Mark
	// wakes the loop; DefaultInterval when zero.
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
	// OnEvent, when set, hears of each event a check stored.
	OnEvent func(e *hub.Event)

	mu     sync.Mutex
	marked map[string]bool
	loop   loop.Loop
}

// DefaultInterval is the fallback wait between passes over marked customers.
const DefaultInterval = time.Minute

// maxMarked bounds the customers waiting for a check; beyond it marks are
// dropped (the daily pass catches up).
const maxMarked = 100_000

// Mark asks for the customer to be checked soon: a bundle or a report of
// it arrived. It never blocks.
func (c *Checker) Mark(customerID string) {
	c.mu.Lock()
	if c.marked == nil {
		c.marked = map[string]bool{}
	}
	if len(c.marked) < maxMarked {
		c.marked[customerID] = true
	}
	c.mu.Unlock()
	c.loop.Wake()
}

// Open starts checking marked customers.
func (c *Checker) Open() error {
	interval := c.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	return c.loop.Open(loop.Config{
		Run: c.checkMarked, Interval: interval, MaxBackoff: 10 * interval,
		Logger: c.Logger, Message: "disaster-recovery check failed", Level: slog.LevelWarn, Name: "disaster-recovery check",
	})
}

// Close stops the checks, waiting for the one under way.
func (c *Checker) Close(ctx context.Context) error { return c.loop.Close(ctx) }

// checkMarked checks every marked customer; one that fails is marked again.
func (c *Checker) checkMarked(ctx context.Context) error {
	c.mu.Lock()
	ids := make([]string, 0, len(c.marked))
	for id := range c.marked {
		ids = append(ids, id)
	}
	c.marked = map[string]bool{}
	c.mu.Unlock()
	sort.Strings(ids)
	var errs []error
	for i, id := range ids {
		if _, _, err := c.Check(ctx, id); err != nil {
			c.mu.Lock()
			for _, again := range ids[i:] {
				c.marked[again] = true
			}
			c.mu.Unlock()
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// Check grades a managed customer and stores the grade; a customer without
// a config (manual, or deleted) is skipped with nil results.
func (c *Checker) Check(ctx context.Context, customerID string) (*hub.DRReadiness, *hub.Event, error) {
	r, err := c.Assess(ctx, customerID)
	if err != nil || r == nil {
		return nil, nil, err
	}
	ev, err := c.Store.SaveDRReadiness(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	if ev != nil {
		c.Logger.Info("disaster-recovery grade changed", "customer_id", customerID, "grade", r.Grade, "event", ev.Type)
		if c.OnEvent != nil {
			c.OnEvent(ev)
		}
	}
	return r, ev, nil
}

// CheckAll grades every managed customer; the daily job. slot is unused:
// the check is of now.
func (c *Checker) CheckAll(ctx context.Context, _ time.Time) error {
	ids, err := c.managedIDs(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if _, _, err := c.Check(ctx, id); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// managedIDs lists the customers that have a config, by id.
func (c *Checker) managedIDs(ctx context.Context) ([]string, error) {
	customers, err := c.Store.FindCustomers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, cu := range customers {
		if cu.Managed {
			ids = append(ids, cu.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// AssessAll grades every managed customer, or only the one named, without
// storing anything (hub dr-verify). ENOTFOUND when only names a customer
// without a config.
func (c *Checker) AssessAll(ctx context.Context, only string) ([]*hub.DRReadiness, error) {
	ids := []string{only}
	if only == "" {
		var err error
		if ids, err = c.managedIDs(ctx); err != nil {
			return nil, err
		}
	}
	out := []*hub.DRReadiness{}
	for _, id := range ids {
		r, err := c.Assess(ctx, id)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no config: only managed customers have recovery bundles", id)
		}
		out = append(out, r)
	}
	return out, nil
}

// Assess gathers a customer's facts and grades them, storing nothing; nil
// when the customer has no config.
func (c *Checker) Assess(ctx context.Context, customerID string) (*hub.DRReadiness, error) {
	f, ok, err := c.Facts(ctx, customerID)
	if err != nil || !ok {
		return nil, err
	}
	r := hub.EvaluateDR(f)
	return &r, nil
}

// Facts gathers what the rules read; false when the customer has no
// config.
func (c *Checker) Facts(ctx context.Context, customerID string) (hub.DRFacts, bool, error) {
	now := c.Now()
	f := hub.DRFacts{CustomerID: customerID, Now: now, MaxBundleAge: c.MaxBundleAge, MaxRestoreTestAge: c.MaxRestoreTestAge}
	cfg, err := c.Store.FindCustomerConfig(ctx, customerID)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return f, false, nil
	} else if err != nil {
		return f, false, err
	}
	bundle, err := c.Store.FindLatestInfraBackup(ctx, customerID)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
	case err != nil:
		return f, false, err
	default:
		f.Bundle = hub.ReadDRBundle(bundle, configgen.ReadIdentity)
	}
	report, err := c.Store.FindLatestReport(ctx, customerID)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
	case err != nil:
		return f, false, err
	default:
		if parsed, perr := hub.ParseReport(report.Body, now); perr == nil {
			f.Node = hub.ReadDRNode(parsed)
		}
		f.RestoreTests = append(f.RestoreTests, hub.ReadRestoreTests(report.Body, now)...)
	}
	hostBodies, err := c.Store.FindLatestHostReportBodies(ctx, customerID)
	if err != nil {
		return f, false, err
	}
	for _, body := range hostBodies {
		f.RestoreTests = append(f.RestoreTests, hub.ReadRestoreTests(body, now)...)
	}
	if yaml, err := c.Configs.Render(cfg); err != nil {
		c.Logger.Warn("cannot generate controller.yaml to compare with the bundle", "customer_id", customerID, slog.Any("error", err))
	} else if id, err := configgen.ReadIdentity(yaml); err == nil {
		f.Expected = id
	}
	return f, true, nil
}
