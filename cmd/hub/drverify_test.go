package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// seedDRDrill fills db with two managed customers: "good" has a fresh,
// complete bundle that matches its report and its generated config;
// "broken" has a bundle without restic passwords.
func seedDRDrill(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	backup, err := os.ReadFile(filepath.Join("..", "..", "testdata", "infra-backup.json"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(filepath.Join("..", "..", "testdata", "controller-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"good", "broken"} {
		cfg := &hub.CustomerConfig{CustomerID: id, Domain: id + ".felhom.eu", Status: hub.ConfigActive}
		cfg.MintCredentials()
		if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		yaml, err := configgen.Generate(configgen.DefaultTemplate, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b map[string]any
		json.Unmarshal(backup, &b)
		b["customer_id"] = id
		b["created_at"] = now.Add(-time.Hour).UTC().Format(time.RFC3339)
		b["controller_yaml"] = base64.StdEncoding.EncodeToString(yaml)
		if id == "broken" {
			delete(b, "restic")
		}
		body, _ := json.Marshal(b)
		parsed, err := hub.ParseInfraBackup(body, now, func([]byte) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateInfraBackup(ctx, parsed); err != nil {
			t.Fatal(err)
		}
		r, err := hub.ParseReport(bytes.Replace(report, []byte(`"kovacs-csalad"`), []byte(`"`+id+`"`), 1), now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

// drVerify runs hub dr-verify and returns its exit code and output.
func drVerify(env []string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"dr-verify"}, args...), nil, &out, &errOut, env)
	return code, out.String(), errOut.String()
}

func secretsKeyEnv() string {
	key := make([]byte, 32)
	rand.Read(key)
	return "HUB_SECRETS_KEY=" + base64.StdEncoding.EncodeToString(key)
}

// hub dr-verify on a database with one good and one broken bundle: exit 1
// for the whole fleet, 0 for the good customer alone, 1 for the broken.
func TestDRVerifySQLite(t *testing.T) {
	dir := t.TempDir()
	keyEnv := secretsKeyEnv()
	env := []string{"HUB_SERVER_DATA_DIR=" + dir, keyEnv}
	db := store.NewDB(filepath.Join(dir, "hub.db"))
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(keyEnv, "HUB_SECRETS_KEY="))
	if err := db.SetSecretsKey(key); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	seedDRDrill(t, db)
	db.Close()
	checkDRVerify(t, env)

	// Without secrets.key the sealed bundles cannot be opened: a failure,
	// never a pass.
	if code, _, _ := drVerify([]string{"HUB_SERVER_DATA_DIR=" + dir}); code != 1 {
		t.Errorf("without secrets.key: exit %d", code)
	}
	// A directory without a database is an error, and stays without one.
	empty := t.TempDir()
	if code, _, stderr := drVerify([]string{"HUB_SERVER_DATA_DIR=" + empty}); code != 1 || !strings.Contains(stderr, "no hub database") {
		t.Errorf("no database: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(empty, "hub.db")); err == nil {
		t.Error("dr-verify created a database")
	}
}

func TestDRVerifyPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	keyEnv := secretsKeyEnv()
	db := store.NewPostgresDB(dsn)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(keyEnv, "HUB_SECRETS_KEY="))
	if err := db.SetSecretsKey(key); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	seedDRDrill(t, db)
	db.Close()
	checkDRVerify(t, []string{"HUB_DATABASE_DRIVER=postgres", "HUB_DATABASE_DSN=" + dsn, keyEnv,
		"HUB_API_REPORT_API_KEY=dr-verify-global-key-0123456789"})
}

func checkDRVerify(t *testing.T, env []string) {
	t.Helper()
	code, out, stderr := drVerify(env)
	if code != 1 {
		t.Errorf("the fleet with a broken bundle: exit %d, want 1\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"broken    not_recoverable", "good      ready", "restic_primary_password_missing", "2 customer(s) checked, 1 not ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "broken") > strings.Index(out, "good ") {
		t.Errorf("the table is not ordered by risk:\n%s", out)
	}
	if strings.Contains(out, "example-only-not-a-real-secret") {
		t.Error("the output shows a restic password")
	}
	if code, out, stderr := drVerify(env, "--customer", "good"); code != 0 || !strings.Contains(out, "1 customer(s) checked, 0 not ready") {
		t.Errorf("--customer good: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, _ := drVerify(env, "--customer", "broken"); code != 1 {
		t.Errorf("--customer broken: exit %d", code)
	}
	if code, _, stderr := drVerify(env, "--customer", "Nope!"); code != 1 || !strings.Contains(stderr, "--customer") {
		t.Errorf("--customer Nope!: exit %d %s", code, stderr)
	}
	if code, _, stderr := drVerify(env, "--customer", "unknown-one"); code != 1 || !strings.Contains(stderr, "no config") {
		t.Errorf("--customer unknown-one: exit %d %s", code, stderr)
	}
}
