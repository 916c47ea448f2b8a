package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/controller"
	"github.com/felhom/hub/fleet"
	"github.com/felhom/hub/store"
)

// fuzzTargets names the fuzz target of every route that reads a body;
// TestEveryBodyRouteIsFuzzed fails when a route is missing here.
var fuzzTargets = map[string]string{
	"POST /api/v1/report":                      "FuzzReportBody",
	"POST /api/v1/event":                       "FuzzEventBody",
	"POST /api/v1/preferences":                 "FuzzPreferencesBody",
	"POST /api/v1/notify":                      "FuzzNotifyBody",
	"POST /api/v1/host-report":                 "FuzzHostReportBody",
	"POST /api/v1/admin/customers":             "FuzzAdminCustomerCreateBody",
	"PATCH /api/v1/admin/customers/{id}":       "FuzzAdminCustomerPatchBody",
	"POST /api/v1/admin/customers/{id}/update": "FuzzAdminControllerUpdateBody",
	"POST /api/v1/admin/hosts":                 "FuzzAdminHostBody",
	"POST /api/v1/admin/tokens":                "FuzzAdminTokenBody",
	"POST /api/v1/admin/silences":              "FuzzAdminSilenceBody",
	"POST /api/v1/admin/customers/{id}/ack":    "FuzzAdminAckBody",
	"POST /api/v1/infra-backup":                "FuzzInfraBackupBody",

	"POST /api/v1/admin/customers/{id}/recovery-link": "FuzzAdminRecoveryLinkBody",
}

func TestEveryBodyRouteIsFuzzed(t *testing.T) {
	for _, rt := range (&api.Server{}).Routes() {
		if rt.Body && fuzzTargets[rt.Pattern()] == "" {
			t.Errorf("%s reads a body but has no fuzz target", rt.Pattern())
		}
	}
}

// Fixed identities of the fuzz hub, so that seeds can name them.
const (
	fuzzCustomer = "kovacs-csalad"
	fuzzHost     = "kovacs-csalad-3fa2c1"
	fuzzHostKey  = "fuzz-host-key-0123456789abcdef0123456789abcdef"
)

// fuzzHub is an API over a real SQLite database with one managed customer
// (which has reported) and one host, and a connection of its own that
// tells whether anything was committed.
type fuzzHub struct {
	handler     http.Handler
	customerKey string
	version     *sql.Conn
}

func newFuzzHub(tb testing.TB) *fuzzHub {
	tb.Helper()
	ctx := context.Background()
	db := store.NewDB(filepath.Join(tb.TempDir(), "hub.db"))
	db.Now = func() time.Time { return epoch }
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	logger := slog.New(slog.DiscardHandler)
	// No audit and no controller calls: a refused admin body then writes
	// nothing at all, which is what the invariant checks.
	controllerAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}`))
	}))
	tb.Cleanup(controllerAPI.Close)
	s := newServer(db, globalKey, db.Now, logger)
	s.Fleet = &fleet.Service{
		Customers: db, Reports: db, Versions: db, Alerts: db, Now: db.Now, Configs: configgen.NewTemplates(db, logger),
		Controllers: controller.New(controller.Options{Policy: controller.Policy{AllowInsecure: true}, Timeout: 2 * time.Second}),
		Logger:      logger,
	}
	if err := db.SetLatestControllerVersion(ctx, &hub.ControllerVersion{Image: "felhom/controller", Version: "1.5.0"}); err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	h := &fuzzHub{handler: api.Middleware(logger, mux)}

	cfg := &hub.CustomerConfig{CustomerID: fuzzCustomer, Status: hub.ConfigActive}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		tb.Fatal(err)
	}
	h.customerKey = cfg.APIKey
	if err := db.UpsertHost(ctx, &hub.Host{ID: fuzzHost, CustomerID: fuzzCustomer}, fuzzHostKey); err != nil {
		tb.Fatal(err)
	}
	report := bytes.Replace(mustRead(tb, "../testdata/controller-report.json"),
		[]byte("https://kovacs-csalad.felhom.eu"), []byte(controllerAPI.URL), 1)
	if status, body := h.serve("POST", "/api/v1/report", globalKey, report); status != 200 {
		tb.Fatalf("seed report: %d %s", status, body)
	}
	// The first use of a fresh key confirms it (one write); made here, it
	// is not taken for a write by the first body fuzzed with that key.
	if status, body := h.serve("GET", "/api/v1/customers/"+fuzzCustomer, h.customerKey, nil); status != 200 {
		tb.Fatalf("confirm the customer key: %d %s", status, body)
	}

	conn, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if h.version, err = conn.Conn(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.version.Close() })
	return h
}

// dataVersion changes whenever another connection commits (PRAGMA
// data_version): an unchanged value means nothing was stored.
func (h *fuzzHub) dataVersion(tb testing.TB) int64 {
	var v int64
	if err := h.version.QueryRowContext(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func (h *fuzzHub) serve(method, path, key string, body []byte) (int, []byte) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// fuzzRoute fuzzes the body of one route. The invariants: no panic, no 5xx,
// an error is a JSON {"error"} body, and a rejected body stores nothing.
// global picks the global key over the customer's (or host's) own key.
func fuzzRoute(f *testing.F, method, path string, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	h := newFuzzHub(f)
	f.Fuzz(func(t *testing.T, body []byte, global bool) {
		key := h.customerKey
		if path == "/api/v1/host-report" {
			key = fuzzHostKey
		}
		if global {
			key = globalKey
		}
		if strings.HasPrefix(path, "/api/v1/admin/") {
			key = testAdminKey
		}
		before := h.dataVersion(t)
		status, answer := h.serve(method, path, key, body)
		if status >= 500 {
			t.Fatalf("%s %s: status %d for a client's body %q: %s", method, path, status, body, answer)
		}
		if status < 400 {
			// The tolerant reader stored it: no value a client sends may
			// make a later read fail (SPEC §2.2).
			for _, read := range []string{"/api/v1/customers", "/api/v1/customers/kovacs-csalad",
				"/api/v1/customers/kovacs-csalad/events", "/api/v1/customers/kovacs-csalad/hosts",
				"/api/v1/customers/kovacs-csalad/history?period=7d"} {
				if code, out := h.serve("GET", read, globalKey, nil); code >= 500 || !json.Valid(out) {
					t.Fatalf("after %s %s took %q: GET %s = %d %q", method, path, body, read, code, out)
				}
			}
			return
		}
		var e struct{ Error string }
		if err := json.Unmarshal(answer, &e); err != nil || e.Error == "" {
			t.Fatalf("status %d with a body that is not a JSON error: %q", status, answer)
		}
		if after := h.dataVersion(t); after != before {
			t.Fatalf("%s %s answered %d but stored something; body %q", method, path, status, body)
		}
	})
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func FuzzReportBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/report",
		mustRead(f, "../testdata/controller-report.json"),
		[]byte(`{"customer_id":"kovacs-csalad"}`),
		[]byte(`{"customer_id":"new-manual-node","health":"fail","storage":[{"total_bytes":10,"used_bytes":11}]}`),
		[]byte(`{"customer_id":"szabo-kft","monitoring_enabled":false}`),
		[]byte(`{"customer_id":"kovacs-csalad","reported_at":"2026-13-01T00:00:00Z"}`),
		[]byte(`[{"customer_id":"kovacs-csalad"}]`),
		[]byte(`{"customer_id":"kovacs-csalad","system":{"mem_total_bytes":1e999}}`))
}

func FuzzEventBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/event",
		mustRead(f, "../testdata/event.json"),
		[]byte(`{"customer_id":"kovacs-csalad","event_type":"backup_failed","severity":"error","message":"restic exited 1"}`),
		[]byte(`{"customer_id":"kovacs-csalad","event_type":"node_down","severity":"error","message":"x"}`),
		[]byte(`{"customer_id":"kovacs-csalad","event_type":"backup_completed","severity":"info","message":"ok","details":[1]}`),
		[]byte(`{"customer_id":"kovacs-csalad","event_type":"backup_completed","severity":"fatal","message":"ok","occurred_at":"yesterday"}`))
}

func FuzzPreferencesBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/preferences",
		mustRead(f, "../testdata/preferences.json"),
		[]byte(`{"customer_id":"kovacs-csalad","email":"","enabled_events":[],"cooldown_hours":0}`),
		[]byte(`{"customer_id":"kovacs-csalad","email":"not an address","enabled_events":["nope"],"cooldown_hours":169}`),
		[]byte(`{"customer_id":"unknown-node","email":"a@b.hu"}`))
}

func FuzzNotifyBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/notify",
		[]byte(`{"customer_id":"kovacs-csalad","subject":"Backup failed","message":"restic exited 1","severity":"error"}`),
		[]byte(`{"customer_id":"kovacs-csalad","subject":"","message":"","severity":"info"}`),
		[]byte(`{"customer_id":"unknown-node","subject":"s","message":"m","severity":"warning"}`),
		[]byte(`{"customer_id":"kovacs-csalad","subject":"a\r\nBcc: x@y.hu","message":"m","severity":"error"}`))
}

func FuzzHostReportBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/host-report",
		mustRead(f, "../testdata/host-report.json"),
		[]byte(`{"host_id":"kovacs-csalad-3fa2c1","guests":[{"vmid":101,"status":"running"},{"vmid":101,"status":"stopped"}]}`),
		[]byte(`{"host_id":"other-host-000000","guests":[]}`),
		[]byte(`{"host_id":"kovacs-csalad-3fa2c1","guests":[{"vmid":-1,"name":"\u0000"}],"cloudflared":{"status":7}}`))
}

func FuzzInfraBackupBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/infra-backup",
		mustRead(f, "../testdata/infra-backup.json"),
		[]byte(`{"customer_id":"kovacs-csalad","created_at":"2026-11-22T03:00:00Z","controller_yaml":"YTogMQo=","settings_json":"e30="}`),
		[]byte(`{"customer_id":"kovacs-csalad","controller_yaml":"not base64","settings_json":"e30="}`),
		[]byte(`{"customer_id":"kovacs-csalad","controller_yaml":"LSBhCi0gYgo=","settings_json":"e30="}`))
}

func FuzzAdminCustomerCreateBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/customers",
		[]byte(`{"customer_id":"toth-bt","display_name":"Tóth Bt.","domain":"toth-bt.felhom.eu"}`),
		[]byte(`{"customer_id":"kovacs-csalad"}`),
		[]byte(`{"customer_id":"nagy-kft","stale_threshold":"45m","down_threshold":"2h","overrides_yaml":"backup:\n  keep_daily: 14\n"}`),
		[]byte(`{"customer_id":"nagy-kft","overrides_yaml":"a: [1"}`),
		[]byte(`{"customer_id":"x","status":"weird","unknown_field":1}`))
}

func FuzzAdminCustomerPatchBody(f *testing.F) {
	fuzzRoute(f, "PATCH", "/api/v1/admin/customers/"+fuzzCustomer,
		[]byte(`{"display_name":"Kovács család"}`),
		[]byte(`{"status":"blocked","monitoring_paused":true}`),
		[]byte(`{"stale_threshold":"30s"}`),
		[]byte(`{"overrides_yaml":"hub:\n  url: https://hub.felhom.eu\n"}`),
		[]byte(`{}`))
}

func FuzzAdminControllerUpdateBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/customers/"+fuzzCustomer+"/update",
		[]byte(`{"version":"v1.5.0"}`),
		[]byte(``),
		[]byte(`{"version":"latest; rm -rf /"}`),
		[]byte(`{"version":1}`))
}

func FuzzAdminSilenceBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/silences",
		[]byte(`{"customer_id":"kovacs-csalad","ends_at":"2026-11-23T10:00:00Z","reason":"disk swap"}`),
		[]byte(`{"host_id":"kovacs-csalad-3fa2c1","event_types":["host_down"],"ends_at":"2026-12-01T00:00:00Z","reason":"r","recurrence":{"weekdays":[6,7],"start":"22:00","duration":"2h"}}`),
		[]byte(`{"event_types":["node_down"],"ends_at":"2026-11-22T11:00:00Z","reason":"\u0000"}`),
		[]byte(`{"ends_at":"2026-11-23T10:00:00Z","reason":"empty scope"}`))
}

func FuzzAdminAckBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/customers/kovacs-csalad/ack",
		[]byte(`{"note":"on it"}`), []byte(``), []byte(`{"note":5}`), []byte(`{"note":"a\nb"}`))
}

func FuzzAdminHostBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/hosts",
		[]byte(`{"customer_id":"kovacs-csalad"}`),
		[]byte(`{"customer_id":"unknown-node"}`),
		[]byte(`{"customer_id":"kovacs-csalad","host_id":"chosen"}`))
}

func FuzzAdminTokenBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/tokens",
		[]byte(`{"name":"deploy","scopes":["admin"]}`),
		[]byte(`{"name":"grafana","scopes":["read"],"expires_at":"2030-01-01T00:00:00Z"}`),
		[]byte(`{"name":"","scopes":[]}`),
		[]byte(`{"name":"x\u0000y","scopes":["root"],"expires_at":"yesterday"}`))
}

func FuzzAdminRecoveryLinkBody(f *testing.F) {
	fuzzRoute(f, "POST", "/api/v1/admin/customers/"+fuzzCustomer+"/recovery-link",
		[]byte(`{"reason":"reinstall after disk failure","ttl":"1h"}`),
		[]byte(`{"reason":"","ttl":"1h"}`),
		[]byte(`{"reason":"x","ttl":"25h"}`),
		[]byte(`{"reason":"x","ttl":"-1s"}`),
		[]byte(`{"reason":"x","ttl":"9223372036854775807ns"}`),
		[]byte(`{"reason":"\u0000\n","ttl":"soon"}`),
		[]byte(`{"reason":"x"}`))
}
