package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// Replicas that start together on an empty database all come up, and the
// schema is migrated once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	const replicas = 4
	dbs := make([]*store.DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i] = store.NewPostgresDB(dsn)
			errs[i] = dbs[i].Open(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	raw := store.OpenRaw(t, dbs[0])
	var rows, distinct int
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions: migrated more than once", rows, distinct)
	}
	// Every replica sees the others' writes.
	MustReport(t, dbs[1], "c1")
	if _, err := dbs[2].FindLatestReport(ctx, "c1"); err != nil {
		t.Errorf("replica 2 does not see replica 1's report: %v", err)
	}
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	db := store.NewPostgresDB(dsn)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	raw := store.OpenRaw(t, db)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err := store.NewPostgresDB(dsn).Open(ctx)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("opened a database of a newer schema: %v", err)
	}
}

// A DSN's password never shows in an error.
func TestPostgresErrorsHideTheDSN(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{
		"postgres://hub:s3cret-pw@127.0.0.1:1/hub?sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 port=1 user=hub password=s3cret-pw connect_timeout=2",
		"postgres://hub:s3cret-pw@[::1/bad",
	} {
		err := store.NewPostgresDB(dsn).Open(ctx)
		if err == nil {
			t.Fatalf("opened %q", dsn)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
