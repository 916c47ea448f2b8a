package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// epoch is the tests' default "now".
var epoch = time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)

// envStore selects the engine the store tests run on: unset for SQLite,
// "postgres" for the run TestPostgresContract starts.
const envStore = "HUB_TEST_STORE"

// onPostgres reports whether this is the PostgreSQL run.
func onPostgres() bool { return os.Getenv(envStore) == "postgres" }

// TestPostgresContract runs every other test of this package again on
// PostgreSQL, each in a schema of its own, when HUB_TEST_POSTGRES_DSN names a
// server: one contract, two engines.
func TestPostgresContract(t *testing.T) {
	if onPostgres() {
		t.Skip("this is the PostgreSQL run")
	}
	pgtest.ServerDSN(t)
	args := []string{"-test.run", ".", "-test.skip", "^(TestPostgresContract|Fuzz.*)$", "-test.count", "1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envStore+"=postgres")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("store tests on PostgreSQL failed: %v\n%s", err, out)
	}
	t.Logf("store tests on PostgreSQL:\n%s", out)
}

// MustOpenDB opens a fresh database, closed at test end: a SQLite file in
// a temp dir, or in the PostgreSQL run a schema of its own.
func MustOpenDB(tb testing.TB, clock *clocktest.Clock) *store.DB {
	tb.Helper()
	db := store.NewDB(filepath.Join(tb.TempDir(), "hub.db"))
	if onPostgres() {
		db = store.NewPostgresDB(pgtest.Schema(tb))
	}
	if clock != nil {
		db.Now = clock.Now
	}
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}
