package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// TestRateLimitWait checks the GCRA wait against the token bucket it
// stands for: burst 3, one per minute.
func TestRateLimitWait(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	l := hub.RateLimit{Key: "k", Burst: 3, Every: time.Minute}
	tests := []struct {
		name string
		tat  time.Time
		want time.Duration
	}{
		{"idle key", now.Add(-time.Hour), 0},
		{"one event", now.Add(time.Minute), 0},
		{"one token left", now.Add(2 * time.Minute), 0},
		{"bucket empty", now.Add(3 * time.Minute), time.Minute},
		{"45 s into the refill", now.Add(3*time.Minute - 45*time.Second), 15 * time.Second},
		{"overdrawn by concurrent failures", now.Add(10 * time.Minute), 8 * time.Minute},
	}
	for _, tt := range tests {
		if got := l.Wait(tt.tat, now); got != tt.want {
			t.Errorf("%s: wait %v, want %v", tt.name, got, tt.want)
		}
	}
}
