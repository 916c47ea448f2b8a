package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
	"golang.org/x/crypto/bcrypt"
)

func TestMainServesDashboardBesideAPI(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("operator password"), bcrypt.MinCost)
	m := MustRunMain(t, func(c *config.Config) { c.Auth.PasswordHash = string(hash) })
	base := "http://" + m.Addr()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("GET / = %d %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), Version) || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /login = %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	// The API keeps its paths and its JSON errors.
	resp, err = client.Get(base + "/api/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/nothing = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, err = client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
}

func TestMainWarnsWhenLoginIsDisabled(t *testing.T) {
	for _, tt := range []struct {
		hash string
		warn bool
	}{{"", true}, {func() string { h, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost); return string(h) }(), false}} {
		cfg := config.Default()
		cfg.Server.Listen = "127.0.0.1:0"
		cfg.Server.DataDir = t.TempDir()
		cfg.Registry.Image = "" // tests never call a real registry
		cfg.Auth.PasswordHash = tt.hash
		var logs bytes.Buffer
		m := NewMain(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "auth.password_hash is not set"); got != tt.warn {
			t.Errorf("hash %q: warning logged = %v, want %v", tt.hash, got, tt.warn)
		}
	}
}

// TestMainWiresEveryDashboardSection boots the hub as it runs in production
// (login, every plug) with a fake controller on loopback, and drives the
// dashboard over HTTP: the sections are there, a push reaches the
// controller and lands in the audit log under the session.
func TestMainWiresEveryDashboardSection(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	controller := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/api/config" {
			io.WriteString(w, "customer:\n  id: kovacs-csalad\n")
			return
		}
		io.WriteString(w, `{"status":"applied"}`)
	}))
	t.Cleanup(controller.Close)

	hash, _ := bcrypt.GenerateFromPassword([]byte("operator password"), bcrypt.MinCost)
	m := MustRunMain(t, func(c *config.Config) {
		c.Auth.PasswordHash = string(hash)
		c.API.ReportAPIKey = "wiring-global-key-0123456789"
		c.Controllers.AllowInsecure = true // the fake controller is plain http on loopback
	})
	base := "http://" + m.Addr()
	ctx := context.Background()
	if err := m.DB.SetLatestControllerVersion(ctx, &hub.ControllerVersion{Image: "felhom-controller", Version: "v1.5.0"}); err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	do := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base) // a same-origin form post
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("POST", "/login", url.Values{"password": {"operator password"}}); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	if code, body := do("POST", "/configs", url.Values{"customer_id": {"kovacs-csalad"}, "display_name": {"Kovács család"},
		"status": {"active"}}); code != http.StatusOK || !strings.Contains(body, "Config for kovacs-csalad created") {
		t.Fatalf("create config: %d", code)
	}
	api := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.GlobalKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	api("/api/v1/report", fmt.Sprintf(`{"customer_id":"kovacs-csalad","controller_version":"v1.4.2","controller_url":%q,"health":"ok","monitoring_enabled":true}`, controller.URL))
	api("/api/v1/event", `{"customer_id":"kovacs-csalad","event_type":"backup_failed","severity":"error","message":"restic failed"}`)

	_, page := do("GET", "/customers/kovacs-csalad", nil)
	for _, section := range []string{"events", "hosts", "notifications", "yaml", "controller", "audit"} {
		if !strings.Contains(page, `id="`+section+`"`) {
			t.Errorf("section %q is not wired", section)
		}
	}
	for _, want := range []string{"restic failed", "update available", "Update to v1.5.0", "api_key: &#34;********&#34;",
		"/api/v1/config/kovacs-csalad", "config.create"} {
		if !strings.Contains(page, want) {
			t.Errorf("customer page lacks %q", want)
		}
	}
	_, dash := do("GET", "/", nil)
	if !strings.Contains(dash, "Events 24 h") || !strings.Contains(dash, "1 err") {
		t.Error("the dashboard has no event counts")
	}

	if code, body := do("POST", "/customers/kovacs-csalad/push-config", url.Values{}); code != http.StatusOK ||
		!strings.Contains(body, "Config pushed to the controller of kovacs-csalad") {
		t.Fatalf("push: %d", code)
	}
	mu.Lock()
	got := append([]string(nil), calls...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "POST /api/config/apply" {
		t.Errorf("controller calls %q", got)
	}
	entries, err := m.DB.FindAuditEntries(ctx, hub.AuditFilter{CustomerID: "kovacs-csalad"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit entries %v %v", entries, err)
	}
	for _, e := range entries {
		if !regexp.MustCompile(`^operator:admin$`).MatchString(e.Actor) || e.Result != hub.AuditOK {
			t.Errorf("audit %+v", e)
		}
	}
}
