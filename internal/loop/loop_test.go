package loop_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/felhom/hub/internal/loop"
)

var errDown = errors.New("database is down")

// passes runs passes that take took each and fail or skip as fails and
// skips say (by pass number, from 0), and records when each started, from the bubble's start.
type passes struct {
	start time.Time
	took  time.Duration
	fails func(n int) bool
	skips func(n int) bool

	mu     sync.Mutex
	starts []time.Duration
}

func (p *passes) run(ctx context.Context) error {
	p.mu.Lock()
	n := len(p.starts)
	p.starts = append(p.starts, time.Since(p.start))
	p.mu.Unlock()
	if p.took > 0 {
		select {
		case <-time.After(p.took):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	switch {
	case p.fails != nil && p.fails(n):
		return errDown
	case p.skips != nil && p.skips(n):
		return loop.ErrSkip
	}
	return nil
}

func (p *passes) got() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.starts)
}

func seconds(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, n := range s {
		out[i] = time.Duration(n) * time.Second
	}
	return out
}

// TestLoopSchedule runs loops in a synctest bubble, whose fake clock moves
// only when every goroutine waits, and checks when each pass started.
func TestLoopSchedule(t *testing.T) {
	tests := []struct {
		name  string
		cfg   loop.Config
		took  time.Duration
		fails func(n int) bool
		// wakes are when the test calls Wake; the loop is closed at until.
		wakes []time.Duration
		until time.Duration
		want  []time.Duration
	}{
		{
			name:  "a pass at once, then every interval",
			cfg:   loop.Config{Interval: 10 * time.Second},
			until: 35 * time.Second,
			want:  seconds(0, 10, 20, 30),
		},
		{
			name:  "interval counted from the start of a pass, as a ticker",
			cfg:   loop.Config{Interval: 10 * time.Second},
			took:  3 * time.Second,
			until: 35 * time.Second,
			want:  seconds(0, 10, 20, 30),
		},
		{
			name:  "a pass longer than the interval is followed at once",
			cfg:   loop.Config{Interval: 10 * time.Second},
			took:  15 * time.Second,
			until: 40 * time.Second,
			want:  seconds(0, 15, 30),
		},
		{
			name:  "wake runs a pass early and the interval counts from it",
			cfg:   loop.Config{Interval: 10 * time.Second},
			wakes: seconds(4),
			until: 25 * time.Second,
			want:  seconds(0, 4, 14, 24),
		},
		{
			name:  "wake-ups during a pass coalesce into one pass after it",
			cfg:   loop.Config{Interval: 10 * time.Second},
			took:  5 * time.Second,
			wakes: seconds(1, 2, 3),
			until: 14 * time.Second,
			want:  seconds(0, 5),
		},
		{
			name:  "failures without MaxBackoff keep the interval",
			cfg:   loop.Config{Interval: 10 * time.Second},
			fails: func(int) bool { return true },
			until: 35 * time.Second,
			want:  seconds(0, 10, 20, 30),
		},
		{
			name:  "failures back off, doubling up to MaxBackoff",
			cfg:   loop.Config{Interval: 10 * time.Second, MaxBackoff: 60 * time.Second},
			fails: func(int) bool { return true },
			until: 200 * time.Second,
			want:  seconds(0, 10, 30, 70, 130, 190),
		},
		{
			name:  "a success ends the back-off",
			cfg:   loop.Config{Interval: 10 * time.Second, MaxBackoff: 60 * time.Second},
			fails: func(n int) bool { return n < 3 },
			until: 95 * time.Second,
			want:  seconds(0, 10, 30, 70, 80, 90),
		},
		{
			name:  "wake runs a pass during the back-off",
			cfg:   loop.Config{Interval: 10 * time.Second, MaxBackoff: 60 * time.Second},
			fails: func(n int) bool { return n < 3 },
			wakes: seconds(40),
			until: 55 * time.Second,
			want:  seconds(0, 10, 30, 40, 50),
		},
		{
			name: "Next gives the wait from the end of a pass",
			cfg: loop.Config{Interval: time.Hour, Next: func() func() time.Duration {
				waits := seconds(5, 1, 7)
				return func() time.Duration {
					w := waits[0]
					if len(waits) > 1 {
						waits = waits[1:]
					}
					return w
				}
			}()},
			took:  time.Second,
			until: 30 * time.Second,
			want:  seconds(0, 6, 8, 16, 24),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &passes{start: time.Now(), took: tt.took, fails: tt.fails}
				cfg := tt.cfg
				cfg.Run = p.run
				var l loop.Loop
				if err := l.Open(cfg); err != nil {
					t.Fatal(err)
				}
				for _, at := range tt.wakes {
					time.Sleep(at - time.Since(p.start))
					l.Wake()
				}
				time.Sleep(tt.until - time.Since(p.start))
				if err := l.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := p.got(); !slices.Equal(got, tt.want) {
					t.Errorf("passes started at %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// OpenAfterPass runs the first pass before it returns, under the caller's
// ctx, and the loop's first pass one interval later.
func TestLoopOpenAfterPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &passes{start: time.Now(), took: 2 * time.Second}
		var l loop.Loop
		if err := l.OpenAfterPass(context.Background(), loop.Config{Run: p.run, Interval: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if got, want := p.got(), seconds(0); !slices.Equal(got, want) {
			t.Fatalf("after OpenAfterPass: passes at %v, want %v", got, want)
		}
		if got := time.Since(p.start); got != 2*time.Second {
			t.Fatalf("OpenAfterPass returned after %v, want the pass's 2s", got)
		}
		time.Sleep(25 * time.Second)
		l.Close(context.Background())
		if got, want := p.got(), seconds(0, 10, 20); !slices.Equal(got, want) {
			t.Errorf("passes at %v, want %v", got, want)
		}
	})
}

// Workers run passes side by side; Wake wakes one of them.
func TestLoopWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &passes{start: time.Now(), took: time.Second}
		var l loop.Loop
		if err := l.Open(loop.Config{Run: p.run, Interval: time.Minute, Workers: 3}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		l.Wake()
		time.Sleep(5 * time.Second)
		l.Close(context.Background())
		if got, want := p.got(), seconds(0, 0, 0, 5); !slices.Equal(got, want) {
			t.Errorf("passes at %v, want %v", got, want)
		}
	})
}

// A Wake before Open is kept: the loop runs its first pass, then another.
func TestLoopWakeBeforeOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &passes{start: time.Now()}
		var l loop.Loop
		l.Wake()
		if err := l.Open(loop.Config{Run: p.run, Interval: time.Minute}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		l.Close(context.Background())
		if got, want := p.got(), seconds(0, 0); !slices.Equal(got, want) {
			t.Errorf("passes at %v, want %v", got, want)
		}
	})
}

func TestLoopClose(t *testing.T) {
	tests := []struct {
		name string
		// honours says whether the pass ends when its ctx is cancelled.
		honours bool
		// wait is how long Close may wait.
		wait    time.Duration
		wantErr error
		took    time.Duration
	}{
		{"cancels the pass and waits for it", true, time.Minute, nil, 0},
		{"waits for a pass that ignores the cancel", false, time.Minute, nil, 30 * time.Second},
		{"gives up when its ctx ends", false, 10 * time.Second, context.DeadlineExceeded, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				started, finished := make(chan struct{}), make(chan struct{})
				run := func(ctx context.Context) error {
					close(started)
					if tt.honours {
						<-ctx.Done()
					} else {
						time.Sleep(30 * time.Second)
					}
					close(finished)
					return ctx.Err()
				}
				var l loop.Loop
				if err := l.Open(loop.Config{Run: run, Interval: time.Hour}); err != nil {
					t.Fatal(err)
				}
				<-started
				began := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), tt.wait)
				defer cancel()
				if err := l.Close(ctx); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Close: %v, want %v", err, tt.wantErr)
				}
				if got := time.Since(began); got != tt.took {
					t.Errorf("Close took %v, want %v", got, tt.took)
				}
				if tt.wantErr != nil {
					// Called again, Close waits on for the pass.
					if err := l.Close(context.Background()); err != nil {
						t.Fatalf("second Close: %v", err)
					}
				}
				select {
				case <-finished:
				default:
					t.Error("Close returned nil with the pass still running")
				}
			})
		})
	}
}

func TestLoopConfig(t *testing.T) {
	run := func(context.Context) error { return nil }
	tests := []struct {
		name string
		cfg  loop.Config
		want string
	}{
		{"no run", loop.Config{Interval: time.Second}, "no Run"},
		{"no interval", loop.Config{Run: run}, "Interval must be positive"},
		{"negative interval", loop.Config{Run: run, Interval: -time.Second}, "Interval must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l loop.Loop
			if err := l.Open(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want %q", err, tt.want)
			}
			if err := l.Close(context.Background()); err != nil {
				t.Errorf("Close of a loop never opened: %v", err)
			}
		})
	}
}

// lines is a slog handler that keeps each record as "LEVEL msg k=v ...".
type lines struct {
	mu  sync.Mutex
	out []string
}

func (h *lines) Enabled(context.Context, slog.Level) bool { return true }
func (h *lines) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *lines) WithGroup(string) slog.Handler            { return h }
func (h *lines) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += fmt.Sprintf(" %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.out = append(h.out, line)
	return nil
}

// TestLoopLogs: a failing loop logs its first failure, then at most a line
// a minute with the count, and one line when it recovers.
func TestLoopLogs(t *testing.T) {
	tests := []struct {
		name  string
		fails func(n int) bool
		skips func(n int) bool
		until time.Duration
		want  []string
	}{
		{
			name:  "passing loop logs nothing",
			until: time.Minute,
		},
		{
			name:  "one failure, then recovery",
			fails: func(n int) bool { return n == 1 },
			until: 25 * time.Second,
			want: []string{
				"WARN check failed url=https://registry error=database is down",
				"INFO check recovered failures=1 failing_for=10s",
			},
		},
		{
			name:  "a skipped pass is no recovery",
			fails: func(n int) bool { return n == 1 },
			skips: func(n int) bool { return n == 2 || n == 3 },
			until: 45 * time.Second,
			want: []string{
				"WARN check failed url=https://registry error=database is down",
				"INFO check recovered failures=1 failing_for=30s",
			},
		},
		{
			name:  "an outage logs a line a minute",
			fails: func(n int) bool { return n >= 1 && n <= 14 },
			until: 155 * time.Second,
			want: []string{
				"WARN check failed url=https://registry error=database is down",
				"WARN check failed url=https://registry failures=7 error=database is down",
				"WARN check failed url=https://registry failures=13 error=database is down",
				"INFO check recovered failures=14 failing_for=2m20s",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := &lines{}
				p := &passes{start: time.Now(), fails: tt.fails, skips: tt.skips}
				var l loop.Loop
				err := l.Open(loop.Config{
					Run: p.run, Interval: 10 * time.Second,
					Logger: slog.New(h), Level: slog.LevelWarn, Message: "check failed", Name: "check",
					Attrs: func() []any { return []any{"url", "https://registry"} },
				})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.until)
				l.Close(context.Background())
				if !slices.Equal(h.out, tt.want) {
					t.Errorf("logged\n%s\nwant\n%s", strings.Join(h.out, "\n"), strings.Join(tt.want, "\n"))
				}
			})
		})
	}
}

// An error from a pass that Close cut short is not a failure: not logged.
func TestLoopCloseIsNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &lines{}
		started := make(chan struct{})
		run := func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return fmt.Errorf("query: %w", ctx.Err())
		}
		var l loop.Loop
		if err := l.Open(loop.Config{Run: run, Interval: time.Minute, Logger: slog.New(h), Level: slog.LevelError, Message: "pass failed"}); err != nil {
			t.Fatal(err)
		}
		<-started
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(h.out) != 0 {
			t.Errorf("logged %q", h.out)
		}
	})
}
