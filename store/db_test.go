package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/hub/store"
)

func TestMigrateEmptyAndUpToDate(t *testing.T) {
	store.SkipOnPostgres(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	for i := range 2 { // the second open finds the schema current
		db := store.NewDB(path)
		if err := db.Open(ctx); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var versions, latest int
	if err := raw.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&versions, &latest); err != nil {
		t.Fatal(err)
	}
	if versions != latest || versions < 1 {
		t.Errorf("schema_migrations has %d rows up to version %d", versions, latest)
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	var vacuum int
	if err := raw.QueryRow(`PRAGMA auto_vacuum`).Scan(&vacuum); err != nil || vacuum != 2 {
		t.Errorf("auto_vacuum = %d, %v; want 2 (incremental)", vacuum, err)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	store.SkipOnPostgres(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	db := store.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	err = store.NewDB(path).Open(ctx)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open = %v, want a refusal", err)
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	store.SkipOnPostgres(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.db")
	key := bytes.Repeat([]byte{7}, 32)

	db := store.NewDB(path)
	if err := db.SetSecretsKey(key); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := newConfig("sealed")
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindCustomerConfig(ctx, "sealed")
	if err != nil || got.RetrievalPassword != cfg.RetrievalPassword || got.APIKey != cfg.APIKey {
		t.Fatalf("round trip: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub.db", "hub.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		for _, secret := range []string{cfg.APIKey, cfg.RetrievalPassword, cfg.SessionSecret} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s contains a secret in the clear", name)
			}
		}
	}

	// Without the key the secrets cannot be read, and the error says why
	// without showing them.
	db2 := store.NewDB(path)
	if err := db2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.FindCustomerConfig(ctx, "sealed"); err == nil || !strings.Contains(err.Error(), "secrets.key") {
		t.Errorf("read without key: %v", err)
	}
	// With another key they cannot be read either.
	db3 := store.NewDB(path)
	if err := db3.SetSecretsKey(bytes.Repeat([]byte{8}, 32)); err != nil {
		t.Fatal(err)
	}
	if err := db3.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	if _, err := db3.FindCustomerConfig(ctx, "sealed"); err == nil {
		t.Error("read with the wrong key succeeded")
	}
}

func TestBackup(t *testing.T) {
	store.SkipOnPostgres(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := store.NewDB(filepath.Join(dir, "hub.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateReport(ctx, exampleReport(t)); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "copy.db")
	if err := store.Backup(ctx, db.Path, dest); err != nil {
		t.Fatal(err)
	}
	if err := store.Backup(ctx, db.Path, dest); err == nil {
		t.Error("backup over an existing file succeeded")
	}
	copyDB := store.NewDB(dest)
	if err := copyDB.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if _, err := copyDB.FindLatestReport(ctx, "kovacs-csalad"); err != nil {
		t.Errorf("backup lacks the report: %v", err)
	}
	if err := store.Backup(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Error("backup of a missing database succeeded")
	}
}
