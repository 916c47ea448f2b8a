package store

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenRaw opens a second pool on db's database for tests that read or set
// what no store method does; it speaks the store's dialect (`$n`
// placeholders, bools as 0 and 1) and is closed at test end.
func OpenRaw(tb testing.TB, db *DB) *sql.DB {
	tb.Helper()
	var raw *sql.DB
	switch d := db.dialect.(type) {
	case postgresDialect:
		cfg, err := pgx.ParseConfig(d.dsn)
		if err != nil {
			tb.Fatal(err)
		}
		raw = sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	default:
		var err error
		if raw, err = sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(5000)"); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

// SkipOnPostgres skips a test of something only SQLite has (its file, its
// pragmas, its older schemas) in the PostgreSQL run of the store tests.
func SkipOnPostgres(tb testing.TB) {
	tb.Helper()
	if os.Getenv("HUB_TEST_STORE") == "postgres" {
		tb.Skip("SQLite only: " + tb.Name())
	}
}

// OpenReplica opens a second DB on db's database, as another replica of
// the hub would (same secrets key), closed at test end.
func OpenReplica(tb testing.TB, db *DB) *DB {
	tb.Helper()
	other := newDB(db.dialect)
	other.Path, other.sealer, other.Now = db.Path, db.sealer, db.Now
	if err := other.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { other.Close() })
	return other
}

// SetFleetWall sets the clock that says when the fleet view looks at the
// database again for other replicas' writes.
func SetFleetWall(db *DB, wall func() time.Time) { db.fleet.wall = wall }

// FleetFollow is how stale the fleet view may be about other replicas.
const FleetFollow = fleetFollow
