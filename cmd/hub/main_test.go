package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
	"golang.org/x/crypto/bcrypt"
)

// MustRunMain boots a hub on a random port with its data in a temp dir.
// testAdminKey is the test hubs' api.admin_api_key: the admin API takes
// no global key.
const testAdminKey = "cmd-hub-test-admin-token-0123456789abcdef"

func MustRunMain(tb testing.TB, mutate func(*config.Config)) *Main {
	tb.Helper()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = tb.TempDir()
	cfg.Registry.Image = "" // tests never call a real registry
	cfg.API.AdminAPIKey = testAdminKey
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := m.Close(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return m
}

func TestMainEndToEnd(t *testing.T) {
	m := MustRunMain(t, nil)
	base := "http://" + m.Addr()

	// With no api.report_api_key the hub minted one into the data dir.
	keyFile, err := os.ReadFile(filepath.Join(m.Config.Server.DataDir, globalKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(keyFile))
	if len(key) != 64 || key != m.GlobalKey {
		t.Fatalf("minted key %q", key)
	}

	report, err := os.ReadFile("../../testdata/controller-report.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/report", bytes.NewReader(report))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}

	req, _ = http.NewRequest("GET", base+"/api/v1/customers/kovacs-csalad", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The latest report as received, with received_at and status added.
	gotBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sent, back map[string]any
	_ = json.Unmarshal(report, &sent)
	if err := json.Unmarshal(gotBody, &back); err != nil {
		t.Fatal(err)
	}
	if back["customer_id"] != "kovacs-csalad" || back["received_at"] == nil || back["status"] == nil {
		t.Errorf("read back %s", gotBody)
	}
	if back["apps_extra"] == nil || back["controller_version"] != sent["controller_version"] {
		t.Errorf("report read back differs: %s", gotBody)
	}

	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz %d", resp.StatusCode)
	}
}

func TestMainKeepsMintedKeyAcrossRestarts(t *testing.T) {
	// A data directory that does not exist yet, as on a fresh machine.
	dir := filepath.Join(t.TempDir(), "fresh", "data")
	first := MustRunMain(t, func(c *config.Config) { c.Server.DataDir = dir })
	key := first.GlobalKey
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.server, first.DB = nil, nil // already closed
	second := MustRunMain(t, func(c *config.Config) { c.Server.DataDir = dir })
	if second.GlobalKey != key {
		t.Error("the minted global key changed across a restart")
	}
	third := MustRunMain(t, func(c *config.Config) { c.API.ReportAPIKey = "configured-key-1234567890" })
	if third.GlobalKey != "configured-key-1234567890" {
		t.Error("configured key not used")
	}
}

// Replicas share a database but not a data directory: a PostgreSQL hub
// does not mint a key of its own, it asks for the shared one.
func TestGlobalKeyRequiredOnPostgres(t *testing.T) {
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	cfg.Database.Driver, cfg.Database.DSN = "postgres", "postgres://hub@db/hub"
	_, err := globalKey(cfg, slog.New(slog.DiscardHandler))
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Key != "api.report_api_key" {
		t.Fatalf("globalKey = %v, want a FieldError naming api.report_api_key", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Server.DataDir, globalKeyFile)); !os.IsNotExist(err) {
		t.Errorf("a key file was written: %v", err)
	}
	cfg.API.ReportAPIKey = "shared-replica-key-0123456789"
	if key, err := globalKey(cfg, slog.New(slog.DiscardHandler)); err != nil || key != cfg.API.ReportAPIKey {
		t.Errorf("globalKey = %q, %v; want the configured key", key, err)
	}
}

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	if code, out, _ := runCmd(t, "", "version"); code != 0 || !strings.Contains(out, Version) {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errOut := runCmd(t, ""); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("no command: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}

	code, out, _ := runCmd(t, "correct horse battery\n", "hash-password")
	if code != 0 {
		t.Fatalf("hash-password: %d", code)
	}
	hash := strings.TrimSpace(out)
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery")) != nil {
		t.Error("hash does not match the password")
	}
	cfg := config.Default()
	cfg.Auth.PasswordHash = hash
	if err := cfg.Validate(); err != nil {
		t.Errorf("the printed hash is not accepted by the config: %v", err)
	}
	if code, _, errOut := runCmd(t, "short\n", "hash-password"); code != 1 || !strings.Contains(errOut, "at least 8") {
		t.Errorf("short password: %d %q", code, errOut)
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("server:\n  listen: \":9090\"\n"), 0o600)
	badFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badFile, []byte("alerting:\n  stale_threshold: 2h\n  down_threshold: 1h\n"), 0o600)
	if code, out, _ := runCmd(t, "", "check-config", good); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("check-config good: %d %q", code, out)
	}
	if code, _, errOut := runCmd(t, "", "check-config", badFile); code != 1 || !strings.Contains(errOut, "alerting.down_threshold") {
		t.Errorf("check-config bad: %d %q", code, errOut)
	}
}

func TestBackupCommand(t *testing.T) {
	m := MustRunMain(t, nil)
	dest := filepath.Join(t.TempDir(), "backup.db")
	var out, errOut bytes.Buffer
	env := []string{"HUB_SERVER_DATA_DIR=" + m.Config.Server.DataDir}
	if code := run(context.Background(), []string{"backup", dest}, nil, &out, &errOut, env); code != 0 {
		t.Fatalf("backup: %d %s", code, errOut.String())
	}
	if st, err := os.Stat(dest); err != nil || st.Size() == 0 {
		t.Fatalf("backup file: %v", err)
	}
	if code := run(context.Background(), []string{"backup", dest}, nil, &out, &errOut, env); code != 1 {
		t.Error("backup over an existing file succeeded")
	}
}

// chanDispatcher passes dispatched events to a channel.
type chanDispatcher chan *hub.Event

func (c chanDispatcher) DispatchEvent(_ context.Context, e *hub.Event) error {
	c <- e
	return nil
}

// TestMainEventDispatched boots the hub on port 0, posts a report and an event, and
// sees the event listed and handed to the dispatcher.
func TestMainEventDispatched(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = t.TempDir()
	cfg.Registry.Image = "" // tests never call a real registry
	cfg.API.ReportAPIKey = "end-to-end-global-key"
	cfg.API.AdminAPIKey = testAdminKey
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	dispatched := make(chanDispatcher, 10)
	m.Dispatcher = dispatched
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()

	post := func(path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+m.Addr()+path, strings.NewReader(body))
		key := cfg.API.ReportAPIKey
		if strings.HasPrefix(path, "/api/v1/admin/") {
			key = testAdminKey
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d %v, want %d", path, resp.StatusCode, out, want)
		}
		return out
	}
	post("/api/v1/report", `{"customer_id":"kovacs-csalad"}`, 200)
	created := post("/api/v1/event", `{"customer_id":"kovacs-csalad","event_type":"backup_completed","severity":"info","message":"ok"}`, 201)

	// The host domain is wired: a minted host key works on /host-report.
	minted := post("/api/v1/admin/hosts", `{"customer_id":"kovacs-csalad"}`, 201)
	req, _ := http.NewRequest("POST", "http://"+m.Addr()+"/api/v1/host-report",
		strings.NewReader(`{"host_id":"`+minted["host_id"].(string)+`"}`))
	req.Header.Set("Authorization", "Bearer "+minted["api_key"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("host-report: %d", resp.StatusCode)
	}

	select {
	case e := <-dispatched:
		if float64(e.ID) != created["id"] || e.Type != "backup_completed" {
			t.Fatalf("dispatched %+v, want event %v", e, created["id"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event not dispatched")
	}
}

func TestMainDemo(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = t.TempDir()
	cfg.Registry.Image = "" // tests never call a real registry
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.Demo = &DemoOptions{Customers: 20, Interval: time.Hour, History: 6 * time.Hour}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	customers, err := m.DB.FindCustomers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(customers) != 20 {
		t.Fatalf("%d demo customers, want 20", len(customers))
	}
	statuses := map[hub.Status]int{}
	manual := 0
	for _, c := range customers {
		statuses[c.Status(time.Now(), hub.DefaultThresholds)]++
		if !c.Managed {
			manual++
		}
	}
	for _, s := range []hub.Status{hub.StatusOK, hub.StatusWarn, hub.StatusDown, hub.StatusDisabled, hub.StatusPending, hub.StatusBlocked} {
		if statuses[s] == 0 {
			t.Errorf("the demo has no %s customer: %v", s, statuses)
		}
	}
	if manual == 0 {
		t.Error("the demo has no manual customer")
	}
	history, err := m.DB.FindMetrics(context.Background(), hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "demo-00000", Resolution: hub.ResolutionRaw, Since: time.Now().Add(-7 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(history) < 20 {
		t.Errorf("demo-00000 has %d history points over 6 h, want a backfilled series", len(history))
	}
}

// TestRunListensFirst: a port already taken fails Run at its first step,
// before the database is created or any key minted.
func TestRunListensFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := config.Default()
	cfg.Server.Listen = taken.Addr().String()
	cfg.Server.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Registry.Image = ""
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	err = m.Run(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "listen:") {
		t.Fatalf("Run = %v, want a listen error", err)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Server.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data directory was created (%v): Run went past the failed listen", err)
	}
}
