package monitor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/store"
)

var epoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// openDB opens the database at path (a new one in a temp dir when "").
func openDB(tb testing.TB, path string, clock *clocktest.Clock) *store.DB {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "hub.db")
	}
	db := store.NewDB(path)
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newChecker(db *store.DB, clock *clocktest.Clock) *monitor.StalenessChecker {
	c := monitor.NewStalenessChecker(db, db, discard)
	c.Now = clock.Now
	return c
}

func mustReport(tb testing.TB, db *store.DB, body string) {
	tb.Helper()
	r, err := hub.ParseReport([]byte(body), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.CreateReport(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
}

func report(tb testing.TB, db *store.DB, id string) {
	tb.Helper()
	mustReport(tb, db, fmt.Sprintf(`{"customer_id":%q}`, id))
}

func mustConfig(tb testing.TB, db *store.DB, id string, edit func(*hub.CustomerConfig)) {
	tb.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	if edit != nil {
		edit(cfg)
	}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(context.Background(), cfg); err != nil {
		tb.Fatal(err)
	}
}

func mustPass(tb testing.TB, c *monitor.StalenessChecker) monitor.PassResult {
	tb.Helper()
	res, err := c.RunOnce(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// eventTypes returns the types of a customer's events, oldest first.
func eventTypes(tb testing.TB, db *store.DB, id string) []string {
	tb.Helper()
	events, err := db.FindEvents(context.Background(), hub.EventFilter{CustomerID: id, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	out := []string{}
	for i := len(events) - 1; i >= 0; i-- {
		out = append(out, events[i].Type)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
