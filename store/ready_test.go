package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// PingWrite passes on a database that takes writes and fails on one that
// answers reads but refuses writes; it changes nothing.
func TestPingWrite(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	if err := db.PingWrite(ctx); err != nil {
		t.Fatalf("PingWrite on a writable database: %v", err)
	}
	if held, err := db.AcquireLease(ctx, "daily", "a", time.Minute); err != nil || !held {
		t.Fatalf("AcquireLease after PingWrite: %v %v", held, err)
	}
	if !onPostgres() {
		return
	}
	// A database whose writes are refused (as a standby refuses them
	// after a failover): reads answer, writes do not.
	dsn := pgtest.Schema(t)
	pg := store.NewPostgresDB(dsn)
	if err := pg.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.PingWrite(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `REVOKE UPDATE ON leases FROM CURRENT_USER`); err != nil {
		t.Fatal(err)
	}
	if err := pg.Ping(ctx); err != nil {
		t.Fatalf("Ping when writes are refused: %v", err)
	}
	if err := pg.PingWrite(ctx); err == nil {
		t.Error("PingWrite passed on a database that refuses writes")
	}
}
