package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/felhom/hub/config"
)

// TestDisasterRecoveryDrill plays the whole story: an operator creates the
// customer, its controller posts an infrastructure backup, the system disk
// dies, and a fresh install with nothing but the customer id and the
// retrieval password gets back exactly what was stored. With secrets.key
// set, a copy of the database files reveals none of it.
func TestDisasterRecoveryDrill(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = t.TempDir()
	cfg.API.ReportAPIKey = "drill-global-key-0123456789"
	cfg.API.AdminAPIKey = testAdminKey
	cfg.Secrets.Key = base64.StdEncoding.EncodeToString(key)
	cfg.Registry.Image = "" // no registry watcher: tests reach no outside host
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			m.Close(ctx)
		}
	}()
	base := "http://" + m.Addr()

	call := func(client *http.Client, method, path string, headers map[string]string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out
	}
	operator := &http.Client{}
	admin := map[string]string{"Authorization": "Bearer " + testAdminKey}

	// 1. The operator creates the customer.
	status, body := call(operator, "POST", "/api/v1/admin/customers", admin,
		[]byte(`{"customer_id":"kovacs-csalad","display_name":"Kovács család","domain":"kovacs-csalad.felhom.eu","cloudflare_tunnel_token":"cf-DRILL-token"}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var creds struct {
		APIKey            string `json:"api_key"`
		RetrievalPassword string `json:"retrieval_password"`
	}
	json.Unmarshal(body, &creds)

	// 2. The controller reports and posts its infrastructure backup.
	controller := &http.Client{Transport: &http.Transport{}}
	ckey := map[string]string{"Authorization": "Bearer " + creds.APIKey}
	if status, body := call(controller, "POST", "/api/v1/report", ckey, []byte(`{"customer_id":"kovacs-csalad","health":"ok"}`)); status != http.StatusOK {
		t.Fatalf("report: %d %s", status, body)
	}
	posted, err := os.ReadFile(filepath.Join("..", "..", "api", "testdata", "infra-backup.json"))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(controller, "POST", "/api/v1/infra-backup", ckey, posted); status != http.StatusCreated {
		t.Fatalf("infra-backup: %d %s", status, body)
	}

	// 3. The disk dies: a fresh install, a new client, only id and password.
	fresh := &http.Client{Transport: &http.Transport{}}
	status, body = call(fresh, "GET", "/api/v1/recovery/kovacs-csalad",
		map[string]string{"X-Retrieval-Password": creds.RetrievalPassword}, nil)
	if status != http.StatusOK {
		t.Fatalf("recovery: %d %s", status, body)
	}
	var rec struct {
		CustomerID     string          `json:"customer_id"`
		ConfigYAML     string          `json:"config_yaml"`
		InfraBackup    json.RawMessage `json:"infra_backup"`
		HasInfraBackup bool            `json:"has_infra_backup"`
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, posted)
	if !rec.HasInfraBackup || !bytes.Equal(rec.InfraBackup, compact.Bytes()) {
		t.Fatalf("recovered backup differs from the posted one:\n%s\n%s", rec.InfraBackup, compact.Bytes())
	}
	for _, want := range []string{"id: \"kovacs-csalad\"", creds.APIKey, "cf-DRILL-token"} {
		if !bytes.Contains([]byte(rec.ConfigYAML), []byte(want)) {
			t.Errorf("config_yaml lacks %q", want)
		}
	}
	if status, _ := call(fresh, "GET", "/api/v1/recovery/kovacs-csalad",
		map[string]string{"X-Retrieval-Password": "wrong"}, nil); status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", status)
	}

	// 4. A thief copies the database files, live and after shutdown.
	secrets := []string{"example-only-not-a-real-secret-1", "example-only-not-a-real-secret-2",
		"cf-DRILL-token", creds.APIKey, creds.RetrievalPassword, "Y3VzdG9tZXI6CiAgaWQ6IGtvdmFjcy1jc2FsYWQK"}
	grep := func(when string) {
		for _, suffix := range []string{"", "-wal"} {
			raw, err := os.ReadFile(databasePath(cfg) + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("%s: hub.db%s contains a secret (%.8s…)", when, suffix, s)
				}
			}
		}
	}
	grep("live")
	closed = true
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	grep("after shutdown")
}
