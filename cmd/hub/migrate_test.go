package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// mustSQLiteHubData writes a SQLite hub in dataDir with a managed customer
// (secrets sealed under key), reports and an event, and returns the config.
func mustSQLiteHubData(t *testing.T, dataDir string, key []byte) *hub.CustomerConfig {
	t.Helper()
	ctx := context.Background()
	db := store.NewDB(filepath.Join(dataDir, "hub.db"))
	if err := db.SetSecretsKey(key); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := &hub.CustomerConfig{CustomerID: "kovacs-csalad", Status: hub.ConfigActive, CloudflareTunnelToken: "cf-token"}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for _, health := range []string{"ok", "warn", "ok"} {
		r, err := hub.ParseReport([]byte(`{"customer_id":"kovacs-csalad","health":"`+health+`"}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateEvent(ctx, &hub.Event{CustomerID: "kovacs-csalad", Type: "backup_failed", Severity: "error",
		Source: hub.SourceController, Message: "restic exited 1"}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// setSchemaVersion rewrites a copy of a SQLite hub's recorded schema version.
func setSchemaVersion(t *testing.T, src, dest string, version int) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dest)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version > ?`, version); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) SELECT ?, 'future.sql', 0
		WHERE NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version, version); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateSQLiteToPostgres runs the command on a SQLite hub, then a hub
// on the PostgreSQL copy, and checks the refusals; the DSN's password never
// shows.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	dataDir := t.TempDir()
	want := mustSQLiteHubData(t, dataDir, key)
	source := filepath.Join(dataDir, "hub.db")
	before, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"HUB_SERVER_DATA_DIR=" + dataDir, "HUB_DATABASE_DSN=" + dsn,
		"HUB_SECRETS_KEY=" + base64.StdEncoding.EncodeToString(key)}
	migrate := func(env []string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"migrate-sqlite-to-postgres"}, args...), nil, &out, &errOut, env)
		text := out.String() + errOut.String()
		assertNoPassword(t, dsn, text)
		return code, text
	}

	// Refused: a source of an older or newer schema, and no target.
	for _, tt := range []struct {
		version int
		want    string
	}{{5, "start this hub version once"}, {99, "newer than this binary"}} {
		old := filepath.Join(t.TempDir(), "hub.db")
		setSchemaVersion(t, source, old, tt.version)
		if code, out := migrate(env, "--from", old); code != 1 || !strings.Contains(out, tt.want) {
			t.Errorf("schema version %d: exit %d, %q", tt.version, code, out)
		}
	}
	if code, out := migrate(env[:1]); code != 1 || !strings.Contains(out, "HUB_DATABASE_DSN") {
		t.Errorf("no target: exit %d, %q", code, out)
	}

	code, out := migrate(env)
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	t.Log(out)
	for _, line := range []string{"customer_configs", "reports", "events", "rows/s", "verified"} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	if after, _ := os.ReadFile(source); !bytes.Equal(before, after) {
		t.Error("the source file changed")
	}
	// A second run finds the target in use and changes nothing.
	if code, out := migrate(env); code != 1 || !strings.Contains(out, "not empty: table ") {
		t.Errorf("second run: exit %d, %q", code, out)
	}
	// A refused connection does not show the password either (run after
	// the copy: a server that trusts local connections lets it in, and
	// then the target is in use).
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(u.User.Username(), "wrong-s3cret-pw")
	wrong := []string{env[0], "HUB_DATABASE_DSN=" + u.String()}
	if code, out := migrate(wrong); code != 1 || strings.Contains(out, "wrong-s3cret-pw") {
		t.Errorf("wrong password: exit %d, %q", code, out)
	}

	// A hub on PostgreSQL with the same key serves the copy.
	m := MustRunMain(t, func(c *config.Config) {
		c.Database.DSN = dsn
		c.API.ReportAPIKey = "replica-shared-key-0123456789"
		c.Secrets.Key = base64.StdEncoding.EncodeToString(key)
	})
	got, err := m.DB.FindCustomerConfig(ctx, "kovacs-csalad")
	if err != nil || got.APIKey != want.APIKey || got.CloudflareTunnelToken != "cf-token" {
		t.Fatalf("config on PostgreSQL: %v", err)
	}
	latest, err := m.DB.FindLatestReport(ctx, "kovacs-csalad")
	if err != nil || latest.Summary.Health != "ok" {
		t.Fatalf("latest report on PostgreSQL: %v", err)
	}
	events, err := m.DB.FindEvents(ctx, hub.EventFilter{CustomerID: "kovacs-csalad"})
	if err != nil || len(events) != 1 || events[0].Message != "restic exited 1" {
		t.Fatalf("events on PostgreSQL: %v %v", events, err)
	}
}

// assertNoPassword fails when the DSN or its password shows in text.
func assertNoPassword(t *testing.T, dsn, text string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if strings.Contains(text, dsn) || (pw != "" && strings.Contains(text, ":"+pw+"@")) {
		t.Errorf("the DSN shows in %q", text)
	}
	// A password that is also the user's or the database's name may show
	// as those; any other must not show at all.
	if pw != "" && pw != u.User.Username() && pw != strings.TrimPrefix(u.Path, "/") && strings.Contains(text, pw) {
		t.Errorf("the DSN's password shows in %q", text)
	}
}
