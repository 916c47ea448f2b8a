package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/internal/clocktest"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		move func(c *clocktest.Clock)
		want time.Time
	}{
		{"new", func(*clocktest.Clock) {}, t0},
		{"add", func(c *clocktest.Clock) { c.Add(90 * time.Second) }, t0.Add(90 * time.Second)},
		{"add back", func(c *clocktest.Clock) { c.Add(-time.Hour) }, t0.Add(-time.Hour)},
		{"set", func(c *clocktest.Clock) { c.Set(t0.AddDate(0, 1, 0)) }, t0.AddDate(0, 1, 0)},
		{"set then add", func(c *clocktest.Clock) { c.Set(t0.Add(time.Hour)); c.Add(time.Minute) }, t0.Add(61 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clocktest.New(t0)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %v, want %v", got, tt.want)
			}
		})
	}
}

// The store and the component under test read the clock from their own
// goroutines while the test moves it.
func TestClockConcurrent(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	c := clocktest.New(t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				c.Add(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(400*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}
