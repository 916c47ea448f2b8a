package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// TestSecretsAtRest stores every kind of customer secret and greps the raw
// database for them — SQLite's files, or every value of every row on
// PostgreSQL: with a key none may appear; without one they do (which shows
// that the grep would find them).
func TestSecretsAtRest(t *testing.T) {
	for _, withKey := range []bool{true, false} {
		name := "without key"
		if withKey {
			name = "with key"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "hub.db")
			db := store.NewDB(path)
			if onPostgres() {
				db = store.NewPostgresDB(pgtest.Schema(t))
			}
			if withKey {
				key := make([]byte, 32)
				rand.Read(key)
				if err := db.SetSecretsKey(key); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Open(ctx); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			cfg := &hub.CustomerConfig{CustomerID: "kovacs", Status: hub.ConfigActive,
				CloudflareTunnelToken: "cf-tunnel-token-SENTINEL",
				OverridesYAML:         "smtp:\n  password: overrides-SENTINEL\n"}
			cfg.MintCredentials()
			if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			backup := mustParseInfraBackup(t, infraBackupBody("kovacs", 7))
			if _, err := db.CreateInfraBackup(ctx, backup); err != nil {
				t.Fatal(err)
			}
			secrets := []string{
				"restic-primary-7", // restic password in the infra backup
				base64.StdEncoding.EncodeToString(backup.ControllerYAML), // base64 controller.yaml as posted
				"customer:\n  id: kovacs",                                // decoded controller.yaml
				"cf-tunnel-token-SENTINEL",                               // tunnel token
				"overrides-SENTINEL",                                     // free-form overrides
				cfg.APIKey,                                               // per-customer key
				cfg.RetrievalPassword,                                    // retrieval password
				cfg.SessionSecret,                                        // controller session secret
			}
			var raw []byte
			if onPostgres() {
				raw = dumpRows(t, db)
			} else {
				raw = readDBFiles(t, path)
			}
			for _, s := range secrets {
				found := bytes.Contains(raw, []byte(s))
				if withKey && found {
					t.Errorf("raw database contains secret %.12q…", s)
				}
				if !withKey && !found && s != "customer:\n  id: kovacs" {
					t.Errorf("control: plain database lacks %.12q…: the grep is broken", s)
				}
			}
			// And the sealed values still open.
			got, err := db.FindCustomerConfig(ctx, "kovacs")
			if err != nil || got.CloudflareTunnelToken != cfg.CloudflareTunnelToken || got.OverridesYAML != cfg.OverridesYAML {
				t.Fatalf("reopen: %+v %v", got, err)
			}
			latest, err := db.FindLatestInfraBackup(ctx, "kovacs")
			if err != nil || !bytes.Equal(latest.Body, backup.Raw) {
				t.Fatalf("reopen backup: %v", err)
			}
		})
	}
}

// readDBFiles returns the database file and its WAL, as a thief would copy them.
func readDBFiles(tb testing.TB, path string) []byte {
	tb.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// dumpRows returns every value of every table of a PostgreSQL store, bytes
// as stored, as a thief with a pg_dump would read them.
func dumpRows(tb testing.TB, db *store.DB) []byte {
	tb.Helper()
	raw := store.OpenRaw(tb, db)
	rows, err := raw.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		tb.Fatalf("found only %d tables: the dump is broken", len(tables))
	}
	var all []byte
	for _, table := range tables {
		rows, err := raw.Query(`SELECT * FROM ` + table)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					all = append(all, v...)
				case []byte:
					all = append(all, v...)
				}
				all = append(all, 0)
			}
		}
		rows.Close()
	}
	return all
}
