package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/felhom/hub/fleetsim"
)

// DemoOptions make a hub that simulates its own fleet: customers in every
// state, a week of history, and live reports from loopback controllers.
type DemoOptions struct {
	Customers int
	// Interval is the real time between live report rounds.
	Interval time.Duration
	// History is how much history to backfill.
	History time.Duration
}

// shiftClock is the real clock, or a fixed moment while a backfill writes
// the past.
type shiftClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

func (c *shiftClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

// demo is a running simulated fleet.
type demo struct {
	fleet       *fleetsim.Fleet
	controllers *fleetsim.Controllers
	cancel      context.CancelFunc
	done        chan struct{}
}

// prepareDemo registers the simulated fleet with the hub at addr and writes
// its history. The hub's clock must be clock.
func (m *Main) prepareDemo(ctx context.Context, clock *shiftClock) (*demo, error) {
	o := m.Demo
	ctrl, err := fleetsim.StartControllers("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	client := fleetsim.NewClient("http://"+m.Addr(), m.GlobalKey, 4)
	client.AdminKey = m.demoAdminKey
	now := time.Now()
	clock.Set(now.Add(-o.History))
	fleet, err := fleetsim.Register(ctx, client, fleetsim.Options{
		Prefix: "demo", Customers: o.Customers, ReportSize: 8 << 10, Seed: 42, Controllers: ctrl, Log: io.Discard,
	})
	if err != nil {
		ctrl.Close()
		return nil, fmt.Errorf("demo: register fleet: %w", err)
	}
	start := time.Now()
	err = fleet.Backfill(ctx, m.DB, clock.Set, now.Add(-o.History), now)
	clock.Set(time.Time{})
	if err != nil {
		ctrl.Close()
		return nil, fmt.Errorf("demo: backfill: %w", err)
	}
	m.Logger.Info("demo fleet ready", "customers", o.Customers, "history", o.History, "backfill", time.Since(start).Round(time.Millisecond))
	return &demo{fleet: fleet, controllers: ctrl}, nil
}

// start runs the live part of the demo until stop.
func (d *demo) start(interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan struct{})
	go func() {
		defer close(d.done)
		_ = d.fleet.Demo(ctx, fleetsim.DemoOptions{Interval: interval, Accel: 96})
	}()
}

// stop ends the live demo and its controllers.
func (d *demo) stop() {
	if d.cancel != nil {
		d.cancel()
		<-d.done
	}
	d.controllers.Close()
}
