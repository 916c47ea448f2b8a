package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/felhom/hub/api"
)

// The reasons /readyz gives: fixed texts, never a database error (it
// could name a host or a user).
var (
	errStarting       = errors.New("starting: the background work is not running yet")
	errDraining       = errors.New("draining: the hub is shutting down")
	errWritesRefused  = errors.New("the database does not take writes")
	errNoStoreToCheck = errors.New("starting: the database is not open yet")
)

// ready says whether this hub should be sent traffic (/readyz): it has
// started, it is not draining, and a write to the database goes through.
// A change of the write path's state is logged once.
func (m *Main) ready(ctx context.Context) error {
	switch {
	case m.draining.Load():
		return errDraining
	case !m.started.Load():
		return errStarting
	case m.DB == nil:
		return errNoStoreToCheck
	}
	if err := m.DB.PingWrite(ctx); err != nil {
		if m.writeFailing.CompareAndSwap(false, true) {
			m.Logger.Warn("readiness: the database does not take writes; /readyz answers 503", slog.Any("error", err))
		}
		return errWritesRefused
	}
	if m.writeFailing.CompareAndSwap(true, false) {
		m.Logger.Info("readiness: the database takes writes again")
	}
	return nil
}

// Drain turns the hub unready and keeps it serving for server.drain_period,
// so that load balancers, which watch /readyz, stop sending it requests
// before it closes its listener. A second signal ends the process during
// the wait (main).
func (m *Main) Drain() {
	m.draining.Store(true)
	d := m.Config.Server.DrainPeriod.D()
	if d <= 0 {
		return
	}
	m.Logger.Info("draining: /readyz answers 503, requests are still served", "drain_period", d.String())
	time.Sleep(d)
}

// listenMetrics takes server.metrics_listen's socket, when it is set.
func (m *Main) listenMetrics() error {
	addr := m.Config.Server.MetricsListen
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (server.metrics_listen): %w", addr, err)
	}
	m.metricsListener = l
	return nil
}

// serveMetrics serves /metrics on its own listener, logged like every
// request (scrapes at debug level).
func (m *Main) serveMetrics() {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Metrics.Handler())
	cfg := m.Config.Server
	m.metricsServer = &http.Server{
		Handler:           api.Middleware(m.Logger.With("component", "metrics"), mux),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.D(),
		ReadTimeout:       cfg.ReadTimeout.D(),
		WriteTimeout:      cfg.WriteTimeout.D(),
		IdleTimeout:       cfg.IdleTimeout.D(),
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.metricsErr = make(chan error, 1)
	go func() { m.metricsErr <- m.metricsServer.Serve(m.metricsListener) }()
	m.Logger.Info("metrics listening", "addr", m.metricsListener.Addr().String())
}

// MetricsAddr returns the address /metrics is served on by itself, or ""
// when it shares the main listener.
func (m *Main) MetricsAddr() string {
	if m.metricsListener == nil {
		return ""
	}
	return m.metricsListener.Addr().String()
}

// closeMetrics stops the metrics listener, last of the HTTP servers, so
// that a scrape sees the drain.
func (m *Main) closeMetrics(ctx context.Context) error {
	if m.metricsServer == nil {
		if m.metricsListener != nil {
			_ = m.metricsListener.Close() // a later step of Run failed
		}
		return nil
	}
	if err := m.metricsServer.Shutdown(ctx); err != nil {
		return fmt.Errorf("metrics shutdown: %w", err)
	}
	if err := <-m.metricsErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
