package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/store"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at the given time.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock forward.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// epoch is the tests' default "now".
var epoch = time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)

// MustOpenDB opens a fresh database in a temp dir, closed at test end.
func MustOpenDB(tb testing.TB, clock *Clock) *store.DB {
	tb.Helper()
	db := store.NewDB(filepath.Join(tb.TempDir(), "hub.db"))
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
