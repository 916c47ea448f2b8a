package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

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
