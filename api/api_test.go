package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/dr"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/notify"
	"github.com/felhom/hub/store"
)

const globalKey = "test-global-key-0123456789"

var epoch = time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)

// env is a hub API over a real SQLite database in a temp dir.
type env struct {
	t     testing.TB
	db    *store.DB
	clock *clocktest.Clock
	srv   *httptest.Server
	logs  *bytes.Buffer
}

// newEnv is newEnvWith without changes to the server.
func newEnv(t testing.TB) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is a hub API over a real SQLite database in a temp dir;
// mutate, when set, changes the server before its routes are registered.
func newEnvWith(t testing.TB, mutate func(s *api.Server, e *env, logger *slog.Logger)) *env {
	t.Helper()
	c := clocktest.New(epoch)
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = c.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil))
	s := newServer(db, globalKey, c.Now, logger)
	e := &env{t: t, db: db, clock: c, logs: logs}
	if mutate != nil {
		mutate(s, e, logger)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	e.srv = httptest.NewServer(api.Middleware(logger, mux))
	t.Cleanup(func() {
		e.srv.Close()
		db.Close()
	})
	return e
}

// newServer returns an API server with every service backed by db.
func newServer(db *store.DB, key string, now func() time.Time, logger *slog.Logger) *api.Server {
	templates, err := notify.ParseTemplates()
	if err != nil {
		panic(err) // the templates are embedded: this is a build fault
	}
	relayer, err := notify.NewDispatcher(db, notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu",
		OperatorCooldown: time.Hour, CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour}, templates, "")
	if err != nil {
		panic(err)
	}
	return &api.Server{
		Reports: db, Customers: db, Events: db, Hosts: db, History: db, InfraBackups: db, Audit: db, Versions: db, DB: db,
		Alerts: db, RateLimits: db,
		Tiers:         hub.DefaultHistoryTiers,
		Notifications: db, Relayer: relayer,
		Configs:   configgen.NewTemplates(db, logger),
		GlobalKey: key, AdminKey: testAdminKey, Tokens: db, Thresholds: hub.DefaultThresholds, HostThresholds: hub.DefaultThresholds,
		Version: "test", Logger: logger, Now: now,
		DR: db, RecoveryAccess: db, RecoveryNotices: relayer,
		RecoveryLinks: &dr.Links{Customers: db, Access: db, Audit: db, Now: now},
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request; key "" sends no Authorization header.
func (e *env) do(method, path, key string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.json); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %s", method, path, raw)
		}
	}
	return r
}

// mustStatus fails the test unless r has the status.
func (r response) mustStatus(tb testing.TB, want int) response {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// errorContains checks a 4xx error body.
func (r response) errorContains(tb testing.TB, want string) {
	tb.Helper()
	msg, _ := r.json["error"].(string)
	if !strings.Contains(msg, want) {
		tb.Errorf("error %q does not contain %q", msg, want)
	}
}

// createCustomer makes a managed customer and returns its credentials.
func (e *env) createCustomer(id string) (apiKey, retrievalPassword string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/admin/customers", testAdminKey, map[string]any{
		"customer_id": id, "display_name": "Customer " + id, "domain": id + ".felhom.eu",
	}).mustStatus(e.t, http.StatusCreated)
	return r.json["api_key"].(string), r.json["retrieval_password"].(string)
}

func exampleReport(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../testdata/controller-report.json")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testAdminKey is the test hubs' api.admin_api_key: the admin API no
// longer takes the global key.
const testAdminKey = "admin-key-for-tests-0123456789abcdef"
