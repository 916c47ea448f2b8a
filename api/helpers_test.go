package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/store"
)

const globalKey = "global-test-key-0123456789"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testHub is an API server over a real database.
type testHub struct {
	t     *testing.T
	db    *store.DB
	clock *clock
	srv   *httptest.Server
}

func newTestHub(t *testing.T) *testHub {
	t.Helper()
	c := &clock{now: time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)}
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = c.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &api.Server{
		Reports: db, Customers: db, Events: db, Hosts: db, DB: db,
		GlobalKey: globalKey, Thresholds: hub.DefaultThresholds, HostThresholds: hub.DefaultThresholds, Version: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: c.Now,
	}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testHub{t: t, db: db, clock: c, srv: srv}
}

// do sends a request and returns the status and the decoded JSON body.
func (h *testHub) do(method, path, key string, body []byte) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s %s: response is not a JSON object: %q", method, path, raw)
	}
	return resp.StatusCode, out
}

// customer creates a managed customer and returns its API key.
func (h *testHub) customer(id string) string {
	h.t.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	cfg.MintCredentials()
	if err := h.db.CreateCustomerConfig(context.Background(), cfg); err != nil {
		h.t.Fatal(err)
	}
	return cfg.APIKey
}

// report posts a minimal report under the global key.
func (h *testHub) report(id string) {
	h.t.Helper()
	if status, body := h.do("POST", "/api/v1/report", globalKey, []byte(`{"customer_id":"`+id+`"}`)); status != 200 {
		h.t.Fatalf("report: %d %v", status, body)
	}
}

// rawDB opens a read connection to the hub's database, to check what no
// API shows.
func rawDB(t *testing.T, h *testHub) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+h.db.Path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
