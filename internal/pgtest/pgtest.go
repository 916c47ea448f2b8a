// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the server HUB_TEST_POSTGRES_DSN names, dropped when the test
// ends. Without that variable the tests that need one skip, saying how to
// enable them.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvDSN is the variable naming the test server.
const EnvDSN = "HUB_TEST_POSTGRES_DSN"

// SkipMessage says how to run the skipped tests.
const SkipMessage = EnvDSN + " is not set: PostgreSQL tests skipped. To run them, start a server " +
	"(e.g. `pg_ctlcluster 15 main start`) and set " + EnvDSN +
	"=postgres://user:password@127.0.0.1:5432/db?sslmode=disable (the role needs CREATE on the database)"

// ServerDSN returns the test server's DSN, skipping the test without one.
func ServerDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		tb.Skip(SkipMessage)
	}
	return dsn
}

// Schema creates an empty schema for the test and returns a DSN whose
// connections use it; the schema is dropped at the end of the test.
func Schema(tb testing.TB) string {
	tb.Helper()
	dsn := ServerDSN(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hubtest_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+name); err != nil {
		admin.Close()
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return WithSearchPath(dsn, name)
}

// WithSearchPath returns dsn with its connections' search_path set.
func WithSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " search_path=" + schema
}
