// Package clocktest is the settable clock of the hub's tests: one fake
// "now" that a test shares between the store, the component under test
// and itself, and moves by hand.
//
// It only tells the time. Tests of code that waits on timers run it in a
// testing/synctest bubble instead, whose fake clock drives the time package.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at t0.
func New(t0 time.Time) *Clock { return &Clock{now: t0} }

// Now returns the clock's time; pass the method value where a component
// takes a func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forwards or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
