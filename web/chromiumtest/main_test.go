package chromiumtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/controller"
	"github.com/felhom/hub/fleet"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
	"golang.org/x/crypto/bcrypt"
)

// chromiumPath is Debian's chromium, the browser these tests drive.
const chromiumPath = "/usr/bin/chromium"

// browserCtx is the one browser every test opens its tabs in; nil when
// chromium is missing.
var browserCtx context.Context

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if _, err := os.Stat(chromiumPath); err != nil {
		fmt.Fprintf(os.Stderr, "chromiumtest: %s not found: the browser tests skip (apt-get install chromium)\n", chromiumPath)
		return m.Run()
	}
	profile, err := os.MkdirTemp("", "hub-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(profile)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		fmt.Fprintf(os.Stderr, "chromiumtest: start %s: %v\n", chromiumPath, err)
		return 1
	}
	browserCtx = ctx
	return m.Run()
}

// cspRecorder collects Content-Security-Policy violations in every page the
// tab loads. DevTools scripts are not subject to the page's CSP.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
	window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});`

// Tab is one browser tab with its own cookies.
type Tab struct {
	t   *testing.T
	ctx context.Context
	// dialogs counts the JavaScript dialogs (alert, confirm) pages opened.
	dialogs atomic.Int32
}

// NewTab opens a tab in a fresh browser context (no cookies shared with
// other tests); it skips the test when chromium is missing.
func NewTab(t *testing.T) *Tab {
	t.Helper()
	if browserCtx == nil {
		t.Skipf("%s is not installed: skipping the browser test (apt-get install chromium)", chromiumPath)
	}
	tabCtx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tabCtx); err != nil { // opens the tab, with no timeout
		t.Fatal(err)
	}
	tab := &Tab{t: t}
	err := chromedp.Listen(tabCtx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			tab.dialogs.Add(1)
			// Close it, so that a failing test reports instead of hanging.
			go chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	tab.ctx = ctx
	return tab
}

// Do runs actions and fails the test on an error.
func (tab *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, actions...); err != nil {
		tab.t.Fatal(err)
	}
}

// Eval evaluates JavaScript in the page and decodes its result.
func Eval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tab.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Text returns the text content of the first element matching a CSS selector.
func (tab *Tab) Text(css string) string {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.TextContent(chromedp.CSS(css)))
	if err != nil {
		tab.t.Fatalf("text of %s: %v", css, err)
	}
	return v
}

// Count returns how many elements match a CSS selector, without waiting.
func (tab *Tab) Count(css string) int {
	tab.t.Helper()
	return Eval[int](tab, fmt.Sprintf("document.querySelectorAll(%q).length", css))
}

// CheckFits fails the test when the current page is wider than width
// pixels, naming the outermost elements that stick out.
func (tab *Tab) CheckFits(what string, width int) {
	tab.t.Helper()
	w := Eval[int](tab, "document.documentElement.scrollWidth")
	if w <= width {
		return
	}
	culprits := Eval[[]string](tab, fmt.Sprintf(`[...document.querySelectorAll('body *')]
		.filter(e => e.getBoundingClientRect().right > %d && !(e.parentElement && e.parentElement.getBoundingClientRect().right > %d))
		.slice(0, 5)
		.map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right) + ' px')`, width, width))
	tab.t.Errorf("%s is %d px wide on a %d px screen; sticking out: %v", what, w, width, culprits)
}

// CheckClean fails the test when the current page broke its CSP or opened
// a dialog.
func (tab *Tab) CheckClean() {
	tab.t.Helper()
	if _, err := chromedp.Run(tab.ctx, chromedp.Poll[bool](`document.readyState === "complete"`)); err != nil {
		tab.t.Fatal(err)
	}
	if !Eval[bool](tab, "Array.isArray(window.__csp)") {
		tab.t.Fatal("the CSP recorder is not installed in the page")
	}
	if v := Eval[[]string](tab, "window.__csp"); len(v) > 0 {
		tab.t.Errorf("%s: CSP violations: %v", Eval[string](tab, "location.pathname"), v)
	}
	if n := tab.dialogs.Load(); n > 0 {
		tab.t.Errorf("%d JavaScript dialogs opened", n)
	}
}

// Screenshot saves a full-page PNG to docs/screenshots when
// HUB_SCREENSHOTS is set.
func (tab *Tab) Screenshot(name string) {
	tab.t.Helper()
	if os.Getenv("HUB_SCREENSHOTS") == "" {
		return
	}
	png, err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tab.t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}

const operatorPassword = "correct horse battery staple"

var passwordHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(operatorPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// Hub is a hub (API and dashboard) on a loopback port.
type Hub struct {
	t     *testing.T
	URL   string
	DB    *store.DB
	Clock *clocktest.Clock
	Fleet *fleet.Service
	// Controller is kovacs-csalad's controller once SeedFleet ran.
	Controller *FakeController
}

// StartHub serves a hub over a fresh database, wired like cmd/hub wires it:
// every dashboard plug set, actions through the fleet service. Options
// change the dashboard's settings, over the hub's database, before it
// starts.
func StartHub(t *testing.T, options ...func(*web.Server, *store.DB)) *Hub {
	t.Helper()
	if browserCtx == nil {
		t.Skipf("%s is not installed: skipping the browser test (apt-get install chromium)", chromiumPath)
	}
	clock := clocktest.New(time.Now().UTC().Truncate(time.Second))
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fleetService := &fleet.Service{
		Customers: db, Reports: db, Audit: db, Versions: db,
		Configs: configgen.NewTemplates(db, logger),
		// The fake controllers are plain http on loopback.
		Controllers: controller.New(controller.Options{Policy: controller.Policy{AllowInsecure: true},
			Timeout: 10 * time.Second, MaxResponseBytes: 1 << 20}),
		Alerts: db, Now: clock.Now,
		Logger: logger,
	}
	apiServer := &api.Server{Reports: db, Customers: db, Events: db, Hosts: db, InfraBackups: db, Configs: fleetService.Configs,
		Fleet: fleetService, Audit: db, Versions: db, Alerts: db, DB: db, RateLimits: db, GlobalKey: hub.NewAPIKey(), DR: db, RecoveryAccess: db,
		Thresholds: hub.DefaultThresholds, HostThresholds: hub.DefaultThresholds, Version: "v0.8.0", Logger: logger, Now: clock.Now}
	loc, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		loc = time.UTC
	}
	webServer := &web.Server{Customers: db, Reports: db, History: db, Sessions: db, RateLimits: db, Actions: fleetService, Operators: db, Tokens: db, Audit: db, PasswordHash: passwordHash,
		Alerts: db, AlertActions: fleetService,
		SessionTTL: 7 * 24 * time.Hour, Thresholds: hub.DefaultThresholds, Version: "v0.8.0",
		Location: loc, Logger: logger, Now: clock.Now,
		Plugs: web.Plugs{Events: db, Hosts: db, Notifications: db, ConfigPreview: fleetService,
			Controller: fleetService, Versions: db, Audit: db, RefusedReports: db}}
	for _, option := range options {
		option(webServer, db)
	}
	dashboard, err := webServer.Handler()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	apiServer.Register(mux)
	mux.Handle("/", dashboard)
	ts := httptest.NewServer(api.Middleware(logger, mux))
	t.Cleanup(ts.Close)
	return &Hub{t: t, URL: ts.URL, DB: db, Clock: clock, Fleet: fleetService}
}

// Config stores a managed config.
func (h *Hub) Config(id, name string, blocked bool) *hub.CustomerConfig {
	h.t.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, DisplayName: name, Domain: id + ".felhom.eu", Status: hub.ConfigActive}
	if blocked {
		cfg.Status = hub.ConfigBlocked
	}
	cfg.MintCredentials()
	if err := h.DB.CreateCustomerConfig(context.Background(), cfg); err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// FakeController is a controller's API on loopback serving a live config
// that a person edited by hand; Down makes it answer 503.
type FakeController struct {
	URL  string
	mu   sync.Mutex
	live string
	down bool
}

func (f *FakeController) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	live, down := f.live, f.down
	f.mu.Unlock()
	switch {
	case down:
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"controller is restarting"}`)
	case r.URL.Path == "/api/config":
		io.WriteString(w, live)
	default:
		io.WriteString(w, `{"status":"ok"}`)
	}
}

// SetDown makes every call fail, or work again.
func (f *FakeController) SetDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// startController serves cfg's generated config with hand edits: a changed
// retention, a key only the controller has, a removed key and a changed
// secret.
func (h *Hub) startController(cfg *hub.CustomerConfig) *FakeController {
	h.t.Helper()
	generated, err := h.Fleet.Configs.Render(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	live := strings.NewReplacer(
		"keep_daily: 7", "keep_daily: 3",
		"auto_update: false", "auto_update: true",
		"  cross_drive: true\n", "",
		cfg.APIKey, "an-old-key",
	).Replace(string(generated)) + "debug:\n  verbose: true\n"
	f := &FakeController{live: live}
	srv := httptest.NewServer(f)
	h.t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// at runs f with the hub's clock set ago before now, so that what f
// stores is dated then.
func (h *Hub) at(ago time.Duration, f func()) {
	now := h.Clock.Now()
	h.Clock.Set(now.Add(-ago))
	defer h.Clock.Set(now)
	f()
}

// Event stores a controller event that occurred (and was received) ago
// before now.
func (h *Hub) Event(id, typ, severity, message string, ago time.Duration) {
	h.t.Helper()
	e := &hub.Event{CustomerID: id, Type: typ, Severity: severity, Source: hub.SourceController, Message: message,
		OccurredAt: h.Clock.Now().Add(-ago)}
	h.at(ago, func() {
		if err := h.DB.CreateEvent(context.Background(), e); err != nil {
			h.t.Fatal(err)
		}
	})
}

// history gives kovacs-csalad what an operator's week leaves behind: an
// audit trail and notifications about its failed backup.
func (h *Hub) history() {
	h.t.Helper()
	ctx := context.Background()
	h.at(2*time.Hour, func() {
		if _, err := h.Fleet.Push(ctx, "operator:admin", "kovacs-csalad"); err != nil {
			h.t.Fatal(err)
		}
	})
	h.at(31*time.Hour, func() {
		_, err := h.DB.EnqueueNotifications(ctx, "kovacs-csalad", 0, func(*hub.NotificationState) ([]*hub.PlannedNotification, error) {
			return []*hub.PlannedNotification{
				{Channel: hub.ChannelOperator, EventType: "backup_failed", Recipient: "ops@felhom.eu", Status: hub.NotificationQueued,
					Email: &hub.Email{IdempotencyKey: "seed-op", To: "ops@felhom.eu", Subject: "kovacs-csalad: backup_failed", Text: "x"}},
				{Channel: hub.ChannelCustomer, EventType: "backup_failed", Recipient: "kovacs.anna@example.hu", Status: hub.NotificationQueued,
					Email: &hub.Email{IdempotencyKey: "seed-cu", To: "kovacs.anna@example.hu", Subject: "Sikertelen mentés", Text: "x"}},
			}, nil
		})
		if err != nil {
			h.t.Fatal(err)
		}
		msgs, err := h.DB.ClaimOutbox(ctx, "seed", 10, time.Minute)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range msgs {
			if err := h.DB.CompleteOutbox(ctx, m.ID, "seed"); err != nil {
				h.t.Fatal(err)
			}
		}
	})
	h.at(5*time.Hour, func() {
		_, err := h.DB.EnqueueNotifications(ctx, "kovacs-csalad", 0, func(*hub.NotificationState) ([]*hub.PlannedNotification, error) {
			return []*hub.PlannedNotification{
				{Channel: hub.ChannelOperator, EventType: "disk_space_warning", Status: hub.NotificationSkipped, Reason: hub.SkipCooldown},
				{Channel: hub.ChannelCustomer, EventType: "disk_space_warning", Status: hub.NotificationSkipped, Reason: hub.SkipNotEnabled},
			}, nil
		})
		if err != nil {
			h.t.Fatal(err)
		}
	})
}

// Host registers the customer's host agent with one report of two guests.
func (h *Hub) Host(customerID string) {
	h.t.Helper()
	ctx := context.Background()
	hostID := customerID + "-3fa2c1"
	if err := h.DB.UpsertHost(ctx, &hub.Host{ID: hostID, CustomerID: customerID}, ""); err != nil {
		h.t.Fatal(err)
	}
	r, err := hub.ParseHostReport([]byte(`{"host_id":"` + hostID + `","agent_version":"0.7.0",
		"host":{"hostname":"pve-kovacs","pve_version":"8.2.4","kernel":"6.8.12-4-pve","cpu_percent":9.3,
			"mem_total_bytes":34359738368,"mem_used_bytes":12884901888,"disk_total_bytes":512110190592,"disk_used_bytes":161061273600},
		"guests":[{"vmid":101,"name":"felhom-controller","status":"running","controller_version":"v1.4.2"},
			{"vmid":102,"name":"home-assistant","status":"stopped"}],
		"cloudflared":{"status":"connected"}}`))
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.DB.CreateHostReport(ctx, r); err != nil {
		h.t.Fatal(err)
	}
	for _, g := range r.Guests {
		if err := h.DB.UpsertGuestFromReport(ctx, hostID, g); err != nil {
			h.t.Fatal(err)
		}
	}
}

// Report stores the example report of testdata for id, received age ago,
// with fields replaced.
func (h *Hub) Report(id string, age time.Duration, fields map[string]any) {
	h.t.Helper()
	raw, err := os.ReadFile("../../testdata/controller-report.json")
	if err != nil {
		h.t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		h.t.Fatal(err)
	}
	now := h.Clock.Now()
	at := now.Add(-age)
	body["customer_id"] = id
	body["reported_at"] = at.Format(time.RFC3339)
	body["controller_url"] = "https://" + id + ".felhom.eu"
	body["health"] = "ok"
	sys := body["system"].(map[string]any)
	sys["hostname"] = "felhom-" + strings.SplitN(id, "-", 2)[0]
	for k, v := range fields {
		body[k] = v
	}
	raw, _ = json.Marshal(body)
	r, err := hub.ParseReport(raw, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	h.Clock.Set(at)
	defer h.Clock.Set(now)
	if _, err := h.DB.CreateReport(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
}

// SeedFleet creates a small realistic fleet with one customer per status.
func (h *Hub) SeedFleet() {
	h.t.Helper()
	var kovacs *hub.CustomerConfig
	h.at(26*time.Hour, func() {
		kovacs = h.Config("kovacs-csalad", "Kovács család", false)
		if err := h.DB.CreateAuditEntry(context.Background(), &hub.AuditEntry{Actor: "admin-api", Action: fleet.ActionConfigCreate,
			CustomerID: "kovacs-csalad", Result: hub.AuditOK}); err != nil {
			h.t.Fatal(err)
		}
	})
	h.at(25*time.Hour, func() {
		var err error
		kovacs, err = h.Fleet.UpdateConfig(context.Background(), "operator:admin", "kovacs-csalad", func(c *hub.CustomerConfig) error {
			c.CloudflareTunnelToken = "eyJhIjoiNDJmZDBhM2UiLCJ0IjoiOWM1YjEifQ"
			c.OverridesYAML = "backup:\n  keep_monthly: 12\n"
			return nil
		})
		if err != nil {
			h.t.Fatal(err)
		}
	})
	for i := 96; i > 0; i-- { // a day of history, every 15 minutes
		age := time.Duration(i)*15*time.Minute + 3*time.Minute
		cpu := 6 + float64(i%12)*1.5
		if i > 30 && i < 40 {
			cpu = 55 + float64(i%5)*6 // the nightly backup
		}
		h.Report("kovacs-csalad", age, map[string]any{"system": map[string]any{
			"hostname": "felhom-kovacs", "os": "Debian GNU/Linux 12 (bookworm)", "uptime_seconds": 1209600,
			"cpu_percent": cpu, "load1": 0.42, "mem_total_bytes": 8589934592,
			"mem_used_bytes": 3221225472 + float64(i%8)*134217728}})
	}
	h.Controller = h.startController(kovacs)
	h.Report("kovacs-csalad", 3*time.Minute, map[string]any{"controller_url": h.Controller.URL})
	for _, e := range []struct {
		typ, severity, message string
		ago                    time.Duration
	}{
		{"backup_completed", "info", "Nightly backup finished: 3 apps, 41.2 GiB", 7 * time.Hour},
		{"dbdump_completed", "info", "Database dumps finished: nextcloud, immich", 8 * time.Hour},
		{"disk_space_warning", "warning", "/mnt/hdd1 is 91% full", 5 * time.Hour},
		{"container_unhealthy", "warning", "immich-ml is unhealthy", 50 * time.Minute},
		{"container_restarted", "info", "immich-ml restarted (exit code 137)", 45 * time.Minute},
		{"backup_failed", "error", "restic: repository is locked by another process", 31 * time.Hour},
		{"app_updated", "info", "nextcloud 29.0.7 → 29.0.8", 26 * time.Hour},
	} {
		h.Event("kovacs-csalad", e.typ, e.severity, e.message, e.ago)
	}
	h.Host("kovacs-csalad")
	if err := h.DB.SetLatestControllerVersion(context.Background(),
		&hub.ControllerVersion{Image: "gitea.dooplex.hu/admin/felhom-controller", Version: "v1.5.0"}); err != nil {
		h.t.Fatal(err)
	}
	cooldown := 6
	if err := h.DB.SetNotificationPrefs(context.Background(), &hub.NotificationPrefs{CustomerID: "kovacs-csalad",
		Email: "kovacs.anna@example.hu", EnabledEvents: []string{"backup_failed", "disk_space_critical", "disk_missing"},
		CooldownHours: &cooldown}); err != nil {
		h.t.Fatal(err)
	}
	h.history()
	h.Config("nagy-kft", "Nagy és Társa Kft.", false)
	h.Report("nagy-kft", 6*time.Minute, map[string]any{"health": "warn", "system": system(23.4, 0.81),
		"storage": disks(0.34, 0.88), "controller_version": "v1.4.1"})
	h.Event("nagy-kft", "disk_space_critical", "error", "/mnt/hdd1 is 97% full", 40*time.Minute)
	h.Config("szabo-bt", "Szabó Bt.", false)
	h.Report("szabo-bt", 75*time.Minute, map[string]any{"system": system(4.2, 0.52), "storage": disks(0.41, 0.63)})
	h.Config("toth-peter", "Tóth Péter", false)
	h.Report("toth-peter", 9*time.Minute, map[string]any{"monitoring_enabled": false, "system": system(1.1, 0.22),
		"storage": disks(0.18, 0.12), "containers": []map[string]any{}})
	h.Config("horvath-anna", "Horváth Anna", false)
	h.Report("molnar-iroda", 2*time.Minute, map[string]any{"controller_version": "v1.3.9", "system": system(12.8, 0.47),
		"storage": disks(0.27, 0.55)})
	h.Config("kiss-zoltan", "Kiss Zoltán", true)
	h.Report("kiss-zoltan", 4*time.Minute, nil)
}

// system is a report's system section with the given load.
func system(cpu, memFraction float64) map[string]any {
	return map[string]any{"hostname": "felhom-node", "os": "Debian GNU/Linux 12 (bookworm)", "uptime_seconds": 3456000,
		"cpu_percent": cpu, "load1": cpu / 25, "mem_total_bytes": 8589934592, "mem_used_bytes": memFraction * 8589934592}
}

// disks is a report's storage with the system and data disks this full.
func disks(system, data float64) []map[string]any {
	return []map[string]any{
		{"mount": "/", "label": "system", "role": "system", "total_bytes": 118111600640, "used_bytes": system * 118111600640},
		{"mount": "/mnt/hdd1", "label": "adat1", "role": "data", "total_bytes": 1000204886016, "used_bytes": data * 1000204886016},
	}
}

// Login signs the tab in through the login form.
func (tab *Tab) Login(h *Hub) {
	tab.t.Helper()
	tab.Do(
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#fleet")),
	)
}
