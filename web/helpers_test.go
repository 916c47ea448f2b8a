package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/controller"
	"github.com/felhom/hub/fleet"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
	"golang.org/x/crypto/bcrypt"
)

// epoch is the tests' "now".
var epoch = time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)

const testPassword = "correct horse battery staple"

// passwordHash is testPassword hashed at bcrypt's lowest cost.
var passwordHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// Harness is a dashboard over a real SQLite database in a temp dir, with
// the fleet service cmd/hub gives it and a fake controller to call.
type Harness struct {
	t          testing.TB
	DB         *store.DB
	Clock      *clocktest.Clock
	Fleet      *fleet.Service
	Controller *FakeController
	Server     *web.Server
	Handler    http.Handler
	Logs       *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustHarness opens a database and builds the dashboard with a login and
// no plugs; mutate adjusts the server before its handler is built.
func MustHarness(tb testing.TB, mutate func(*web.Server)) *Harness {
	tb.Helper()
	return mustHarness(tb, func(s *web.Server, _ *Harness) {
		if mutate != nil {
			mutate(s)
		}
	})
}

// MustPluggedHarness is MustHarness: every harness has every plug set as
// cmd/hub sets it, the store and the fleet service.
func MustPluggedHarness(tb testing.TB) *Harness {
	tb.Helper()
	return MustHarness(tb, nil)
}

func mustHarness(tb testing.TB, mutate func(*web.Server, *Harness)) *Harness {
	tb.Helper()
	clock := clocktest.New(epoch)
	db := store.NewDB(filepath.Join(tb.TempDir(), "hub.db"))
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := NewFakeController(tb)
	h := &Harness{t: tb, DB: db, Clock: clock, Controller: fake, Logs: logs}
	h.Fleet = &fleet.Service{
		Customers: db, Reports: db, Audit: db, Versions: db,
		Configs: configgen.NewTemplates(db, logger),
		// The fake controller is on loopback http.
		Controllers: controller.New(controller.Options{Policy: controller.Policy{AllowInsecure: true},
			Timeout: 5 * time.Second, MaxResponseBytes: 1 << 20}),
		VolatileKeys: []string{"runtime"},
		Logger:       logger,
	}
	h.Server = &web.Server{
		Customers:    db,
		Reports:      db,
		History:      db,
		Sessions:     db,
		RateLimits:   db,
		Actions:      h.Fleet,
		Operators:    db,
		Tokens:       db,
		Audit:        db,
		PasswordHash: passwordHash,
		SessionTTL:   7 * 24 * time.Hour,
		Thresholds:   hub.DefaultThresholds,
		Version:      "v9.8.7-test",
		Logger:       logger,
		Now:          clock.Now,
		Plugs: web.Plugs{Events: db, Hosts: db, Notifications: db, ConfigPreview: h.Fleet,
			Controller: h.Fleet, Versions: db, Audit: db, RefusedReports: db},
	}
	mutate(h.Server, h)
	handler, err := h.Server.Handler()
	if err != nil {
		tb.Fatal(err)
	}
	h.Handler = handler
	return h
}

// FakeController is a controller's API on loopback: it serves Live at
// GET /api/config, takes pushes and updates, and answers Status (with a
// JSON error) instead when Status is set.
type FakeController struct {
	URL string

	mu       sync.Mutex
	live     string
	status   int
	requests []string // "METHOD path body"
}

// NewFakeController starts a fake controller for the test.
func NewFakeController(tb testing.TB) *FakeController {
	f := &FakeController{}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *FakeController) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+" "+string(body))
	live, status := f.live, f.status
	f.mu.Unlock()
	switch {
	case status != 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"apply failed: <b>disk full</b>"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/config":
		io.WriteString(w, live)
	case r.Method == http.MethodPost && r.URL.Path == "/api/update":
		io.WriteString(w, `{"status":"update scheduled"}`)
	default:
		io.WriteString(w, `{"status":"applied"}`)
	}
}

// SetLive sets the live config; SetStatus makes every call fail with it.
func (f *FakeController) SetLive(yaml string) { f.mu.Lock(); f.live = yaml; f.mu.Unlock() }
func (f *FakeController) SetStatus(code int)  { f.mu.Lock(); f.status = code; f.mu.Unlock() }

// Requests returns what the controller received.
func (f *FakeController) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// ClosedURL is the URL of a port nothing listens on: calls to it are
// refused.
func ClosedURL(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// Report stores a controller report received at the given time; fields
// override the report's defaults (nil deletes a field).
func (h *Harness) Report(id string, at time.Time, fields map[string]any) {
	h.t.Helper()
	body := map[string]any{
		"customer_id": id, "reported_at": at.Format(time.RFC3339),
		"controller_version": "v1.4.2", "controller_url": "https://" + id + ".felhom.eu",
		"health": "ok", "monitoring_enabled": true,
		"system": map[string]any{"hostname": "felhom-" + id, "os": "Debian GNU/Linux 12 (bookworm)",
			"uptime_seconds": 1209600, "cpu_percent": 7.4, "load1": 0.42,
			"mem_total_bytes": 8589934592, "mem_used_bytes": 3221225472},
		"storage": []map[string]any{
			{"mount": "/", "label": "system", "role": "system", "total_bytes": 118111600640, "used_bytes": 30064771072},
			{"mount": "/mnt/hdd1", "label": "adat1", "role": "data", "total_bytes": 1000204886016, "used_bytes": 912680550400},
		},
		"containers": []map[string]any{
			{"name": "nextcloud-app", "app": "nextcloud", "image": "nextcloud:29.0.8-apache", "state": "running", "health": "healthy"},
			{"name": "immich-ml", "app": "immich", "image": "ghcr.io/immich-app/immich-machine-learning:v1.119.1", "state": "restarting", "health": "unhealthy"},
		},
		"backups": map[string]any{"last_backup_at": at.Add(-7 * time.Hour).Format(time.RFC3339), "last_backup_status": "ok",
			"last_dbdump_at": at.Add(-8 * time.Hour).Format(time.RFC3339), "last_dbdump_status": "ok", "repository_bytes": 412316860416},
		"checks": []map[string]any{{"name": "disk_space", "status": "warn", "message": "/mnt/hdd1 91% full"}},
	}
	for k, v := range fields {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := hub.ParseReport(raw, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.Clock.Now()
	h.Clock.Set(at)
	defer h.Clock.Set(now)
	if _, err := h.DB.CreateReport(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
}

// Config stores a managed config and returns it with its credentials.
func (h *Harness) Config(id, displayName string, mutate func(*hub.CustomerConfig)) *hub.CustomerConfig {
	h.t.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, DisplayName: displayName, Domain: id + ".felhom.eu", Status: hub.ConfigActive}
	if mutate != nil {
		mutate(cfg)
	}
	cfg.MintCredentials()
	if err := h.DB.CreateCustomerConfig(context.Background(), cfg); err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// The seeded fleet: one customer in each state.
var fleetStates = map[string]hub.Status{
	"ok-node":       hub.StatusOK,
	"warn-node":     hub.StatusWarn,
	"down-node":     hub.StatusDown,
	"disabled-node": hub.StatusDisabled,
	"pending-node":  hub.StatusPending,
	"manual-node":   hub.StatusOK,
	"blocked-node":  hub.StatusBlocked,
}

// SeedFleet creates one customer in each state of fleetStates.
func (h *Harness) SeedFleet() {
	h.t.Helper()
	now := h.Clock.Now()
	h.Config("ok-node", "Kovács család", nil)
	h.Report("ok-node", now.Add(-3*time.Minute), nil)
	h.Config("warn-node", "Nagy Kft.", nil)
	h.Report("warn-node", now.Add(-40*time.Minute), nil)
	h.Config("down-node", "Szabó Bt.", nil)
	h.Report("down-node", now.Add(-5*time.Minute), map[string]any{"health": "fail"})
	h.Config("disabled-node", "Tóth Péter", nil)
	h.Report("disabled-node", now.Add(-2*time.Minute), map[string]any{"monitoring_enabled": false})
	h.Config("pending-node", "Horváth Anna", nil)
	h.Report("manual-node", now.Add(-4*time.Minute), nil)
	h.Config("blocked-node", "Kiss Zoltán", func(c *hub.CustomerConfig) { c.Status = hub.ConfigBlocked })
	h.Report("blocked-node", now.Add(-1*time.Minute), nil)
}

// Client is a cookie-keeping client that calls the handler directly.
type Client struct {
	h       *Harness
	Cookies map[string]*http.Cookie
	// Header is added to every request.
	Header http.Header
}

func (h *Harness) Client() *Client {
	return &Client{h: h, Cookies: map[string]*http.Cookie{}, Header: http.Header{}}
}

// Response is a finished response with its body read.
type Response struct {
	*http.Response
	Body string
}

// Do sends a request; it never follows redirects.
func (c *Client) Do(method, path string, form url.Values, header http.Header) *Response {
	c.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://hub.test"+path, body)
	req.RemoteAddr = "192.0.2.10:51234"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	for _, ck := range c.Cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.h.Handler.ServeHTTP(rec, req)
	resp := rec.Result()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.Cookies, ck.Name)
		} else {
			c.Cookies[ck.Name] = &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	b, _ := io.ReadAll(resp.Body)
	return &Response{Response: resp, Body: string(b)}
}

func (c *Client) Get(path string) *Response { return c.Do("GET", path, nil, nil) }

func (c *Client) Post(path string, form url.Values) *Response {
	if form == nil {
		form = url.Values{}
	}
	return c.Do("POST", path, form, nil)
}

// MustLogin logs the client in.
func (c *Client) MustLogin() {
	c.h.t.Helper()
	resp := c.Post("/login", url.Values{"password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther || c.Cookies["hub_session"] == nil {
		c.h.t.Fatalf("login: %d, cookies %v\n%s", resp.StatusCode, c.Cookies, resp.Body)
	}
}

// LoggedInClient returns a client with a session.
func (h *Harness) LoggedInClient() *Client {
	c := h.Client()
	c.MustLogin()
	return c
}

// expectStatus fails the test when the response has another status.
func expectStatus(tb testing.TB, resp *Response, want int) {
	tb.Helper()
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, excerpt(resp.Body))
	}
}

// expectContains fails when the body lacks any of the strings.
func expectContains(tb testing.TB, body string, wants ...string) {
	tb.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			tb.Errorf("body lacks %q\n%s", w, excerpt(body))
		}
	}
}

// expectNotContains fails when the body has any of the strings.
func expectNotContains(tb testing.TB, body string, unwanted ...string) {
	tb.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			tb.Errorf("body has %q", u)
		}
	}
}

func excerpt(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// rowOf returns the HTML of the table row with id row-<id>, or "".
func rowOf(body, id string) string {
	re := regexp.MustCompile(`(?s)<tr id="row-` + regexp.QuoteMeta(id) + `"[^>]*>.*?</tr>`)
	return re.FindString(body)
}
