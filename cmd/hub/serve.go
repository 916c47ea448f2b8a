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
	"sync/atomic"
	"time"
	_ "time/tzdata" // the dashboard's and the daily jobs' zone, without the OS's zone files

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/controller"
	"github.com/felhom/hub/dispatch"
	"github.com/felhom/hub/dr"
	"github.com/felhom/hub/fleet"
	"github.com/felhom/hub/lease"
	"github.com/felhom/hub/metrics"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/notify"
	"github.com/felhom/hub/registry"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
)

func runServe(ctx context.Context, args []string, stderr io.Writer, environ []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (optional)")
	demoMode := fs.Bool("demo", false, "simulate a fleet of customers in every state, with a week of history (data in a temp dir unless server.data_dir is set)")
	demoCustomers := fs.Int("demo-customers", 25, "how many customers --demo simulates")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	tempDir := ""
	if *demoMode && *configPath == "" && !hasEnv(environ, "HUB_SERVER_DATA_DIR") {
		if cfg.Server.DataDir, err = os.MkdirTemp("", "felhom-hub-demo-"); err != nil {
			return err
		}
		// A throw-away hub leaves nothing behind.
		tempDir = cfg.Server.DataDir
		defer os.RemoveAll(tempDir)
	}
	if *demoMode && *configPath == "" && !hasEnv(environ, "HUB_LOG_LEVEL") {
		// The simulated fleet is busy: its info lines would bury the
		// terminal. The demo says where it is below.
		cfg.Log.Level = "warn"
	}
	if *demoMode && cfg.Server.Listen == config.Default().Server.Listen {
		// The demo has no login: it stays on this machine unless told
		// otherwise (server.listen, with auth.disabled or an account).
		cfg.Server.Listen = "127.0.0.1" + cfg.Server.Listen
	}
	m := NewMain(cfg, newLogger(cfg, stderr))
	if *demoMode {
		if *demoCustomers < 1 || *demoCustomers > 10000 {
			return fmt.Errorf("--demo-customers must be between 1 and 10000")
		}
		m.Demo = &DemoOptions{Customers: *demoCustomers, Interval: 20 * time.Second, History: 7 * 24 * time.Hour}
	}
	if err := m.Run(ctx); err != nil {
		m.Close(context.Background())
		return err
	}
	if m.Demo != nil {
		fmt.Fprintf(stderr, "hub: demo with %d simulated customers at http://%s/ (Ctrl-C stops it", m.Demo.Customers, m.Addr())
		if tempDir != "" {
			fmt.Fprintf(stderr, " and removes %s", tempDir)
		}
		fmt.Fprintln(stderr, ")")
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	m.Drain()
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
	Metrics   *metrics.Metrics
	// Owner is this replica's name in the leases table, unique per process.
	Owner  string
	leases map[string]*lease.Lease
	// Dispatcher receives every stored event; nil means the notification
	// dispatcher (tests may put another in).
	Dispatcher hub.EventDispatcher

	// Demo, when set, makes the hub simulate its own fleet.
	Demo *DemoOptions
	demo *demo
	// demoAdminKey is the admin token the demo's simulator registers its
	// customers with: api.admin_api_key, or one minted for the run.
	demoAdminKey string
	demoClock    *shiftClock

	notifier       *notify.Dispatcher
	mailSender     *notify.Sender
	dispatchWorker *dispatch.Worker
	alerter        *notify.Alerter
	checker        *monitor.StalenessChecker
	scheduler      *monitor.Scheduler
	Templates      *configgen.Templates
	Registry       *registry.Watcher
	Fleet          *fleet.Service
	history        *monitor.HistoryWorker
	drChecker      *dr.Checker
	refused        *api.RefusedReports

	listener net.Listener
	server   *http.Server
	serveErr chan error

	// The separate metrics listener (server.metrics_listen), if any.
	metricsListener net.Listener
	metricsServer   *http.Server
	metricsErr      chan error

	// started is set once Run has opened everything; draining from the
	// first signal on; writeFailing while /readyz finds writes refused.
	started, draining, writeFailing atomic.Bool
}

// NewMain returns a Main for cfg; nothing is opened until Run.
func NewMain(cfg *config.Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger, Now: time.Now}
}

// Run opens the hub in steps, each a method: it returns once the hub
// serves and its background work runs. On an error, Close undoes what was
// opened.
func (m *Main) Run(ctx context.Context) error {
	build := currentBuild()
	m.Logger.Info("starting felhom hub", "version", build.Version, "commit", build.Commit, "built", build.BuildTime, "go", build.Go,
		"listen", m.Config.Server.Listen, "data_dir", m.Config.Server.DataDir)
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"listen", m.listen}, // first: a port clash fails before anything is opened
		{"open store", m.openStore},
		{"open services", m.openServices},
		{"open http", m.openHTTP},
		{"start background work", m.startBackground},
	} {
		if err := step.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	m.started.Store(true)
	return nil
}

// listen takes the listening socket; connections wait in its queue until
// openHTTP serves them.
func (m *Main) listen(context.Context) error {
	l, err := net.Listen("tcp", m.Config.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Server.Listen, err)
	}
	m.listener = l
	return m.listenMetrics()
}

// openStore opens the database with its secrets key, after the global key:
// a replica without one stops before it touches the database.
func (m *Main) openStore(ctx context.Context) error {
	cfg := m.Config
	if m.Demo != nil {
		m.demoClock = &shiftClock{}
		m.Now = m.demoClock.Now
		cfg.Controllers.AllowInsecure = true // the simulated controllers are on loopback http
		if cfg.API.AdminAPIKey == "" {
			cfg.API.AdminAPIKey = hub.NewAPIToken() // lives only as long as the run
		}
		m.demoAdminKey = cfg.API.AdminAPIKey
	}
	m.DB = newStore(cfg)
	m.DB.Now = m.Now
	m.DB.Thresholds = nodeThresholds(cfg)
	m.DB.HostThresholds = hostThresholds(cfg)
	m.DB.Tiers = historyTiers(cfg)
	key, err := secretsKey(cfg, m.Logger, true)
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
	if m.GlobalKey, err = globalKey(cfg, m.Logger); err != nil {
		return err
	}
	if err := m.DB.Open(ctx); err != nil {
		return err
	}
	m.Logger.Info("database open", "driver", m.DB.Driver())
	if err := m.syncBuiltinOperator(ctx); err != nil {
		return err
	}
	if err := m.checkExposure(ctx); err != nil {
		return err
	}
	if m.DB.Driver() == "sqlite" && !m.DB.IncrementalVacuum() {
		m.Logger.Warn("the database was not created with auto_vacuum=INCREMENTAL: pruned space is reused but the file never shrinks; stop the hub and run `sqlite3 hub.db 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'` once (needs free disk space the size of the file)")
	}
	return nil
}

// openServices opens what the handlers and the background work share: the
// templates, the job leases, the registry watcher, the fleet service and the
// notifier.
func (m *Main) openServices(ctx context.Context) error {
	cfg := m.Config
	m.Templates = configgen.NewTemplates(m.DB, m.Logger.With("component", "templates"))
	configureTemplates(m.Templates, cfg, m.Logger)
	m.Templates.Now = m.Now
	if err := m.Templates.Open(ctx); err != nil {
		return err
	}
	if err := m.openLeases(ctx); err != nil {
		return err
	}
	m.Registry = registry.NewWatcher(cfg.Registry.Image, cfg.Registry.Username, cfg.Registry.Token,
		m.DB, m.Logger.With("component", "registry"))
	m.Registry.Interval, m.Registry.Now = cfg.Registry.CheckInterval.D(), m.Now
	m.Registry.Lease = m.leases[leaseRegistry]
	if err := m.Registry.Open(); err != nil {
		return err
	}
	m.Fleet = &fleet.Service{
		Customers: m.DB,
		Reports:   m.DB,
		Audit:     m.DB,
		Versions:  m.DB,
		Configs:   m.Templates,
		Controllers: controller.New(controller.Options{
			Policy:           controller.Policy{AllowInsecure: cfg.Controllers.AllowInsecure},
			Timeout:          cfg.Controllers.Timeout.D(),
			MaxResponseBytes: cfg.Controllers.MaxResponseBytes,
		}),
		VolatileKeys:     cfg.Controllers.VolatileKeys,
		KeyRotationGrace: cfg.API.KeyRotationGrace.D(),
		Alerts:           m.DB,
		AlertsChanged:    m.wakeAlerter,
		Now:              m.Now,
		Logger:           m.Logger.With("component", "fleet"),
	}
	if cfg.Controllers.AllowInsecure {
		m.Logger.Warn("controllers.allow_insecure is on: the hub will call plain-http and private-network controller URLs")
	}
	m.newAlerter()
	return m.newNotifier()
}

// openHTTP builds the API, the dashboard and the metrics on one mux and
// starts serving on the listener.
func (m *Main) openHTTP(context.Context) error {
	cfg := m.Config
	trustedProxies, err := cfg.Server.TrustedProxyPrefixes()
	if err != nil {
		return err
	}
	m.Metrics = m.newMetrics()
	m.refused = api.NewRefusedReports(m.DB, m.Logger.With("component", "api"))
	m.refused.Now = m.Now
	m.drChecker = m.newDRChecker()
	recoveryLinks := m.newRecoveryLinks()
	apiServer := &api.Server{
		Reports:         m.DB,
		Customers:       m.DB,
		Events:          m.DB,
		Hosts:           m.DB,
		InfraBackups:    m.DB,
		Notifications:   m.DB,
		Relayer:         m.notifier,
		Configs:         m.Templates,
		Fleet:           m.Fleet,
		Audit:           m.DB,
		Versions:        m.DB,
		History:         m.DB,
		DB:              m.DB,
		RateLimits:      m.DB,
		Refused:         m.refused,
		FieldProblems:   m.Metrics,
		DR:              m.DB,
		RecoveryAccess:  m.DB,
		RecoveryLinks:   recoveryLinks,
		RecoveryNotices: m.notifier,
		DRChanged:       m.drChecker.Mark,
		PublicURL:       cfg.Server.PublicURL,
		TrustedProxies:  trustedProxies,
		GlobalKey:       m.GlobalKey,
		AdminKey:        cfg.API.AdminAPIKey,
		Tokens:          m.DB,
		Alerts:          m.DB,
		Thresholds:      nodeThresholds(cfg),
		HostThresholds:  hostThresholds(cfg),
		Tiers:           historyTiers(cfg),
		Version:         Version,
		Logger:          m.Logger.With("component", "api"),
		Now:             m.Now,
		Ready:           m.ready,
	}
	if n, err := m.DB.CountOperators(context.Background()); err == nil && n == 0 {
		m.Logger.Warn("auth.password_hash is not set and there is no operator account: the dashboard has no login and anyone who can reach it can change the fleet; add one with: hub user add NAME --role admin")
	}
	webServer := &web.Server{
		Customers:        m.DB,
		Reports:          m.DB,
		History:          m.DB,
		Tiers:            historyTiers(cfg),
		Sessions:         m.DB,
		RateLimits:       m.DB,
		Actions:          m.Fleet,
		Operators:        m.DB,
		Alerts:           m.DB,
		AlertActions:     m.Fleet,
		Noise:            m.DB,
		PasswordHash:     cfg.Auth.PasswordHash,
		Tokens:           m.DB,
		Audit:            m.DB,
		RequireTOTP:      cfg.Auth.RequireTOTP,
		SessionTTL:       cfg.Auth.SessionTTL.D(),
		KeyRotationGrace: cfg.API.KeyRotationGrace.D(), // the customer page's advice after a rotation
		PublicURL:        cfg.Server.PublicURL,
		TrustedOrigins:   cfg.Server.TrustedOrigins,
		TrustedProxies:   trustedProxies,
		Thresholds:       apiServer.Thresholds,
		HostThresholds:   apiServer.HostThresholds,
		Version:          Version,
		Templates:        m.Templates,
		Production:       cfg.Server.IsProduction(),
		Location:         dashboardLocation(m.Logger),
		DR:               web.DRPlug{Readiness: m.DB, Backups: m.DB, Retrievals: m.DB, Links: recoveryLinks},
		Logger:           m.Logger.With("component", "web"),
		Now:              m.Now,
		// Every section of the dashboard: the store reads, the fleet
		// service acts (and audits) and renders the masked preview.
		Plugs: web.Plugs{
			Events:        m.DB,
			Hosts:         m.DB,
			Notifications: m.DB,
			ConfigPreview: m.Fleet,
			Controller:    m.Fleet,
			Versions:      m.DB,
			Audit:         m.DB,
			// Refused reports: counted by the API, shown per customer.
			RefusedReports: m.DB,
		},
		// Issue 18: the pages say when mail goes nowhere, why the latest
		// version is unknown, and when a backup is overdue.
		Mail: &web.MailSetup{Provider: notify.ChooseProvider(cfg.Notifications.Provider,
			cfg.Notifications.ResendAPIKey, cfg.Notifications.SMTP.Host), OperatorEmail: cfg.Notifications.OperatorEmail},
		Registry: m.Registry,
		Backups:  backupSchedule(cfg),
	}
	dashboard, err := webServer.Handler()
	if err != nil {
		return err
	}
	apiServer.Sessions = webServer // the dashboard's own session may call the API

	// The API owns /api/, the probes and /metrics (unless it has a
	// listener of its own); every other path is the dashboard's.
	mux := http.NewServeMux()
	apiServer.Register(mux)
	if m.metricsListener == nil {
		mux.Handle("GET /metrics", m.Metrics.Handler())
	} else {
		mux.Handle("/metrics", http.NotFoundHandler()) // not the dashboard's either
		m.serveMetrics()
	}
	// API bodies are budgeted after authentication (api.BodyBudget); the
	// dashboard's forms get a small budget of their own.
	mux.Handle("/", api.LimitBodies(dashboardBodyBudget, dashboardMaxBody, api.DefaultBodyWait, m.Logger, dashboard))

	m.server = &http.Server{
		Handler:           api.Middleware(m.Logger.With("component", "http"), m.Metrics.Middleware(mux)),
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.D(),
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

// startBackground starts the background work, after a demo's backfill so
// that the checker and the daily jobs see the present, then the demo's
// simulated controllers.
func (m *Main) startBackground(ctx context.Context) error {
	if m.Demo != nil {
		var err error
		if m.demo, err = m.prepareDemo(ctx, m.demoClock); err != nil {
			return err
		}
	}
	if err := m.openBackground(); err != nil {
		return err
	}
	if m.demo != nil {
		m.demo.start(m.Demo.Interval)
	}
	return nil
}

// The dashboard's bodies in flight are bounded to dashboardBodyBudget, each
// weighing at most dashboardMaxBody (web reads no more of a form).
const (
	dashboardBodyBudget = 8 << 20
	dashboardMaxBody    = 64 << 10
)

// hasEnv reports whether environ sets name.
func hasEnv(environ []string, name string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// nodeThresholds are the hub-wide staleness thresholds of nodes.
func nodeThresholds(cfg *config.Config) hub.Thresholds {
	return hub.Thresholds{Stale: cfg.Alerting.StaleThreshold.D(), Down: cfg.Alerting.DownThreshold.D()}
}

// historyTiers are how long each tier of report history is kept.
func historyTiers(cfg *config.Config) hub.HistoryTiers {
	return hub.NewHistoryTiers(cfg.Retention.FullDays, cfg.Retention.MaxDays)
}

// hostThresholds are the staleness thresholds of hosts.
func hostThresholds(cfg *config.Config) hub.Thresholds {
	return hub.Thresholds{Stale: cfg.Alerting.HostStaleThreshold.D(), Down: cfg.Alerting.HostDownThreshold.D()}
}

// openBackground starts the mail sender, the event dispatcher, the
// staleness checker, the daily jobs and the history worker, in that order:
// each must be there to be woken by the first thing the next one stores.
// The dispatcher, the daily jobs and the history worker run only while this
// replica holds their lease; the mail sender (it claims outbox rows with
// leases of their own, ClaimOutbox) and the staleness checker (compare-and-
// set) run on every replica (openLeases).
func (m *Main) openBackground() error {
	cfg := m.Config
	if err := m.mailSender.Open(); err != nil {
		return err
	}
	if err := m.refused.Open(context.Background()); err != nil {
		return err
	}
	if m.Dispatcher == nil {
		m.Dispatcher = m.notifier
	}
	m.dispatchWorker = dispatch.NewWorker(m.DB, m.Dispatcher, m.Logger.With("component", "dispatch"))
	m.dispatchWorker.Lease = m.leases[leaseDispatch]
	if err := m.dispatchWorker.Open(); err != nil {
		return err
	}
	m.DB.SetEventsStored(m.dispatchWorker.Notify)

	m.checker = monitor.NewStalenessChecker(m.DB, m.DB, m.Logger.With("component", "monitor"))
	m.checker.Interval = cfg.Alerting.CheckInterval.D()
	m.checker.Now = m.Now
	m.checker.Noise = &monitor.NoiseCheck{Store: m.DB, FlapThreshold: cfg.Alerting.FlapThreshold,
		Incident: hub.IncidentRule{Fraction: cfg.Alerting.IncidentFraction, Window: cfg.Alerting.IncidentWindow.D()}}
	m.Metrics.CheckerRuns.WithLabelValues("staleness") // exported from the start, at 0
	m.checker.OnPass = func(res monitor.PassResult) {
		m.Metrics.CheckerRuns.WithLabelValues("staleness").Inc()
		for _, e := range res.Events {
			m.Metrics.Transitions.WithLabelValues(e.Type).Inc()
		}
	}
	if err := m.checker.Open(); err != nil {
		return err
	}
	if err := m.alerter.Open(); err != nil {
		return err
	}

	zone := monitor.LoadHubZone()
	backupAt, err := config.ParseClock(cfg.Alerting.BackupCheckSchedule)
	if err != nil {
		return err
	}
	pruneAt, err := config.ParseClock(cfg.Retention.PruneSchedule)
	if err != nil {
		return err
	}
	drJob, err := m.drDailyJob()
	if err != nil {
		return err
	}
	dailyLogger := m.Logger.With("component", "daily")
	backups := &monitor.BackupChecker{Nodes: m.DB, Events: m.DB, Location: zone, Now: m.Now, Logger: dailyLogger}
	pruner := &monitor.Pruner{Store: m.DB, History: m.DB, ReclaimPause: 20 * time.Millisecond, MaxAge: time.Duration(cfg.Retention.MaxDays) * 24 * time.Hour, Now: m.Now, Logger: dailyLogger}
	m.scheduler = &monitor.Scheduler{
		Jobs: []monitor.DailyJob{
			{Name: monitor.JobPrune, At: pruneAt, Run: pruner.Run},
			{Name: monitor.JobBackupCheck, At: backupAt, Run: backups.Run},
			drJob,
		},
		Runs:     m.DB,
		Lease:    m.leases[leaseDailyJobs],
		Location: zone,
		Interval: monitor.DefaultSchedulerInterval,
		Now:      m.Now,
		Logger:   dailyLogger,
	}
	if err := m.scheduler.Open(); err != nil {
		return err
	}
	if err := m.drChecker.Open(); err != nil {
		return err
	}
	m.history = &monitor.HistoryWorker{Store: m.DB, Lease: m.leases[leaseHistory], Pause: monitor.DefaultHistoryPause, Logger: m.Logger.With("component", "history")}
	return m.history.Open()
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

// Close stops accepting requests, lets in-flight ones finish, stops the
// background work, then closes the database.
func (m *Main) Close(ctx context.Context) error {
	m.draining.Store(true)
	var errs []error
	// The leases are released last, with time kept for them: a job that
	// takes the rest of ctx must not leave them held for another replica
	// (or this hub's next run) to wait out.
	jobsCtx, cancelJobs := ctx, context.CancelFunc(func() {})
	if deadline, ok := ctx.Deadline(); ok {
		jobsCtx, cancelJobs = context.WithDeadline(ctx, deadline.Add(-min(2*time.Second, time.Until(deadline)/4)))
	}
	defer cancelJobs()
	if m.demo != nil {
		m.demo.stop()
	}
	if m.server == nil && m.listener != nil {
		_ = m.listener.Close() // a later step of Run failed: nothing serves on it
	}
	if m.server != nil {
		if err := m.server.Shutdown(jobsCtx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-m.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if err := m.closeMetrics(jobsCtx); err != nil {
		errs = append(errs, err)
	}
	// Background work stops in the reverse order of openBackground.
	type closer interface{ Close(context.Context) error }
	for _, c := range []struct {
		name string
		c    closer
		open bool
	}{
		{"history worker", m.history, m.history != nil},
		{"dr checker", m.drChecker, m.drChecker != nil},
		{"daily jobs", m.scheduler, m.scheduler != nil},
		{"alert follow-ups", m.alerter, m.alerter != nil},
		{"staleness checker", m.checker, m.checker != nil},
		{"dispatcher", m.dispatchWorker, m.dispatchWorker != nil},
		{"refused reports", m.refused, m.refused != nil},
		{"mail sender", m.mailSender, m.mailSender != nil},
		{"registry watcher", m.Registry, m.Registry != nil},
		{"templates", m.Templates, m.Templates != nil},
	} {
		if !c.open {
			continue
		}
		if err := c.c.Close(jobsCtx); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
		}
	}
	// The leases go last, after every job they guard has stopped.
	if err := m.closeLeases(ctx); err != nil {
		errs = append(errs, err)
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
	if cfg.Database.Driver == "postgres" {
		// A lone SQLite hub mints the key into its data directory;
		// replicas have a directory each, and each would mint its own.
		return "", &config.FieldError{Key: "api.report_api_key",
			Reason: "is required with driver postgres: every replica must accept the same key (set HUB_API_REPORT_API_KEY from a Secret)"}
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
	if err := os.MkdirAll(cfg.Server.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	logger.Warn("api.report_api_key is not set: minted a global API key and saved it in the data directory", "file", path)
	return key, nil
}

// backupSchedule is the backup checker's schedule, for the dashboard to
// call a backup overdue exactly when the checker would.
func backupSchedule(cfg *config.Config) hub.BackupSchedule {
	at, _ := config.ParseClock(cfg.Alerting.BackupCheckSchedule) // validated at load
	return hub.BackupSchedule{Location: monitor.LoadHubZone(), At: time.Duration(at) * time.Minute}
}
