package lease_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/felhom/hub/lease"
)

// downStore is a lease table whose database is down until up is set.
type downStore struct {
	mu sync.Mutex
	up bool
}

func (s *downStore) AcquireLease(context.Context, string, string, time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up {
		return false, errors.New("database is down")
	}
	return true, nil
}

func (s *downStore) ReleaseLease(context.Context, string, string) error { return nil }

// An outage of the database costs a log line a minute, not one per
// renewal, and one line when renewals work again.
func TestRenewalFailuresAreLoggedOnceAMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))
		s := &downStore{}
		l := lease.New("daily", "a", s, logger)
		l.TTL = 30 * time.Second // renewals every 10 s: the counts below
		if err := l.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(125 * time.Second) // renewals every 10 s: 13 failed
		s.mu.Lock()
		s.up = true
		s.mu.Unlock()
		time.Sleep(10 * time.Second)
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{
			`level=WARN msg="lease renewal failed" lease=daily error="database is down"`,
			`level=WARN msg="lease renewal failed" lease=daily failures=7 error="database is down"`,
			`level=WARN msg="lease renewal failed" lease=daily failures=13 error="database is down"`,
			`level=INFO msg="lease acquired: this replica runs the job" lease=daily`,
			`level=INFO msg="lease renewal recovered" lease=daily failures=13 failing_for=2m10s`,
			`level=INFO msg="lease released" lease=daily`,
		}
		if got := strings.Split(strings.TrimSpace(buf.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("logged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
