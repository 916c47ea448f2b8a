package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/hub/config"
	"golang.org/x/crypto/bcrypt"
)

// TestRefusesOpenDashboardOnPublicAddress: without an account and a
// password the hub serves only loopback, unless auth.disabled says so.
func TestRefusesOpenDashboardOnPublicAddress(t *testing.T) {
	start := func(mutate func(*config.Config)) error {
		cfg := config.Default()
		cfg.Server.Listen = "0.0.0.0:0"
		cfg.Server.DataDir = t.TempDir()
		cfg.Registry.Image = ""
		mutate(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		m := NewMain(cfg, slog.New(slog.DiscardHandler))
		err := m.Run(context.Background())
		m.Close(context.Background())
		return err
	}
	err := start(func(*config.Config) {})
	if err == nil || !strings.Contains(err.Error(), "auth.disabled") {
		t.Fatalf("an open dashboard started on a public address: %v", err)
	}
	if err := start(func(c *config.Config) { c.Auth.Disabled = true }); err != nil {
		t.Errorf("auth.disabled: %v", err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("a password of some length"), bcrypt.MinCost)
	if err := start(func(c *config.Config) { c.Auth.PasswordHash = string(hash) }); err != nil {
		t.Errorf("with a password: %v", err)
	}
	if err := start(func(c *config.Config) { c.Server.Listen = "127.0.0.1:0" }); err != nil {
		t.Errorf("loopback: %v", err)
	}
}

// TestOldConfigStillLogsIn: a config of the previous version (only
// auth.password_hash) logs in with the old one-field form, as admin; the
// global key no longer reaches the admin API; the secrets key is minted.
func TestOldConfigStillLogsIn(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("the old dashboard password"), bcrypt.MinCost)
	m := MustRunMain(t, func(c *config.Config) { c.Auth.PasswordHash = string(hash); c.API.AdminAPIKey = "" })
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm("http://"+m.Addr()+"/login", url.Values{"password": {"the old dashboard password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("old password: %d, want 303", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", "http://"+m.Addr()+"/api/v1/admin/audit", nil)
	req.Header.Set("Authorization", "Bearer "+m.GlobalKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(body, []byte("admin token")) {
		t.Errorf("global key on the admin API: %d %s", resp.StatusCode, body)
	}
	info, err := os.Stat(filepath.Join(m.Config.Server.DataDir, secretsKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("minted secrets key: %v %v", info, err)
	}
}

// TestUserAndTokenCommands adds accounts and a token on the command line.
func TestUserAndTokenCommands(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HUB_SERVER_DATA_DIR=" + dir}
	var out, errs bytes.Buffer
	run1 := func(stdin string, args ...string) int {
		out.Reset()
		errs.Reset()
		return run(context.Background(), args, strings.NewReader(stdin), &out, &errs, env)
	}
	if code := run1("a long enough password\n", "user", "add", "anna", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errs.String())
	}
	if code := run1("short\n", "user", "add", "vera", "--role", "viewer"); code == 0 {
		t.Error("a short password was taken")
	}
	if code := run1("", "user", "add", "vera", "--role", "root"); code == 0 {
		t.Error("an unknown role was taken")
	}
	if code := run1("", "user", "list"); code != 0 || !strings.Contains(out.String(), "anna\tadmin") {
		t.Errorf("user list: %d %q", code, out.String())
	}
	if code := run1("", "token", "add", "deploy", "--scope", "admin"); code != 0 || !strings.HasPrefix(out.String(), "hubt_") {
		t.Errorf("token add: %d %q %s", code, out.String(), errs.String())
	}
	if code := run1("", "user", "remove", "anna"); code == 0 {
		t.Error("the last admin was removed")
	}
}
