package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // the dashboard's and the daily jobs' zone, without the OS's zone files

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
)

func runServe(ctx context.Context, args []string, stderr io.Writer, environ []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	m := NewMain(cfg, newLogger(cfg, stderr))
	if err := m.Run(ctx); err != nil {
		m.Close(context.Background())
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	return m.Close(shutdownCtx)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Main is a running hub: it opens its parts in order and closes them in
// reverse. Tests boot it on port 0.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	// Now is the clock every component reads.
	Now func() time.Time

	DB        *store.DB
	GlobalKey string

	listener net.Listener
	server   *http.Server
	serveErr chan error
}

// NewMain returns a Main for cfg; nothing is opened until Run.
func NewMain(cfg *config.Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger, Now: time.Now}
}

// Run opens the database, starts the background work and starts serving.
// It returns once the listener is up.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	m.Logger.Info("starting felhom hub", "version", Version, "listen", cfg.Server.Listen, "data_dir", cfg.Server.DataDir)

	m.DB = store.NewDB(databasePath(cfg))
	m.DB.Now = m.Now
	key, err := cfg.SecretsKey()
	if err != nil {
		return err
	}
	if key != nil {
		if err := m.DB.SetSecretsKey(key); err != nil {
			return err
		}
	} else {
		m.Logger.Warn("secrets.key is not set: customer secrets are stored unencrypted; set HUB_SECRETS_KEY to 32 random bytes in base64")
	}
	if err := m.DB.Open(ctx); err != nil {
		return err
	}

	m.GlobalKey, err = globalKey(cfg, m.Logger)
	if err != nil {
		return err
	}

	apiServer := &api.Server{
		Reports:    m.DB,
		Customers:  m.DB,
		DB:         m.DB,
		GlobalKey:  m.GlobalKey,
		Thresholds: hub.Thresholds{Stale: cfg.Alerting.StaleThreshold.D(), Down: cfg.Alerting.DownThreshold.D()},
		Version:    Version,
		Logger:     m.Logger.With("component", "api"),
		Now:        m.Now,
	}
	if cfg.Auth.PasswordHash == "" {
		m.Logger.Warn("auth.password_hash is not set: the dashboard has no login and anyone who can reach it can change the fleet; set one with: hub hash-password")
	}
	webServer := &web.Server{
		Customers:      m.DB,
		Reports:        m.DB,
		Sessions:       m.DB,
		PasswordHash:   cfg.Auth.PasswordHash,
		SessionTTL:     cfg.Auth.SessionTTL.D(),
		PublicURL:      cfg.Server.PublicURL,
		TrustedOrigins: cfg.Server.TrustedOrigins,
		Thresholds:     apiServer.Thresholds,
		Version:        Version,
		Location:       dashboardLocation(m.Logger),
		Logger:         m.Logger.With("component", "web"),
		Now:            m.Now,
	}
	dashboard, err := webServer.Handler()
	if err != nil {
		return err
	}

	// The API owns /api/ and /healthz; every other path is the dashboard's.
	mux := http.NewServeMux()
	apiServer.Register(mux)
	mux.Handle("/", dashboard)

	m.listener, err = net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Listen, err)
	}
	m.server = &http.Server{
		Handler:           api.Middleware(m.Logger.With("component", "http"), mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.Server.ReadTimeout.D(),
		WriteTimeout:      cfg.Server.WriteTimeout.D(),
		IdleTimeout:       cfg.Server.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.server.Serve(m.listener) }()
	m.Logger.Info("listening", "addr", m.listener.Addr().String())
	return nil
}

// dashboardLocation is the zone the dashboard shows times in: the fleet
// is in Hungary. The zone data is embedded (time/tzdata).
func dashboardLocation(logger *slog.Logger) *time.Location {
	loc, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		logger.Warn("time zone Europe/Budapest unavailable: the dashboard shows UTC", slog.Any("error", err))
		return time.UTC
	}
	return loc
}

// Addr returns the address the hub listens on.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops accepting requests, lets in-flight ones finish, then closes
// the database.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-m.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close db: %w", err))
		}
	}
	return errors.Join(errs...)
}

// globalKeyFile holds the global API key the hub minted for itself.
const globalKeyFile = "global-api-key"

// globalKey returns api.report_api_key, or a key kept in the data directory
// (minted on first start) so that a hub with no config is still secure.
func globalKey(cfg *config.Config, logger *slog.Logger) (string, error) {
	if cfg.API.ReportAPIKey != "" {
		return cfg.API.ReportAPIKey, nil
	}
	path := filepath.Join(cfg.Server.DataDir, globalKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(data))
		if len(key) < 16 {
			return "", fmt.Errorf("%s: key is shorter than 16 characters", path)
		}
		logger.Info("api.report_api_key is not set: using the global API key kept in the data directory", "file", path)
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key := hub.NewAPIKey()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	logger.Warn("api.report_api_key is not set: minted a global API key and saved it in the data directory", "file", path)
	return key, nil
}
