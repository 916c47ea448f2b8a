package store

import (
	"database/sql"
	"os"
	"testing"

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
