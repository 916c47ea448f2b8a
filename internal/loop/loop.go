// Package loop is the one home of the hub's background loops: a pass at
// once, then one after each wait, an early wake-up, back-off and
// rate-limited logs while passes fail, and a Close that waits for the pass
// under way. The components keep their decisions in their own RunOnce-style
// methods; a Loop only says when those run.
package loop

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// DefaultLogEvery is the least time between two log lines of a loop whose
// passes keep failing: an outage of the database costs a line a minute,
// not one per pass.
const DefaultLogEvery = time.Minute

// ErrSkip is what a pass returns when it found its work not yet due: it
// counts neither as a failure nor as a recovery from one.
var ErrSkip = errors.New("loop: pass skipped")

// Config says what a Loop runs, how often, and how it logs failures.
type Config struct {
	// Run is one pass. A pass that returns an error is logged and backs
	// the loop off; an error from a pass cut short by Close is neither,
	// nor is ErrSkip.
	Run func(ctx context.Context) error
	// Interval is the time from the start of one pass to the start of the
	// next, as a ticker keeps it: a pass that takes longer is followed at
	// once by the next.
	Interval time.Duration
	// Next, when set, is asked after each pass how long to wait, counted
	// from the pass's end; it replaces Interval, which then only sets the
	// first step of the back-off.
	Next func() time.Duration
	// MaxBackoff, when above Interval, slows a failing loop down: after n
	// failed passes in a row the next starts Interval doubled n-1 times
	// after the failed one, at most MaxBackoff. Wake still runs a pass at
	// once.
	MaxBackoff time.Duration
	// Workers is how many goroutines run passes, each with its own wait
	// (at least one). Wake wakes one of them; they share the failure count.
	Workers int

	Logger *slog.Logger
	// Message and Level are the log line of a failed pass. While passes
	// keep failing, a line is logged at most every LogEvery
	// (DefaultLogEvery), with the number of failures in a row.
	Message string
	Level   slog.Level
	// Attrs, when set, adds attributes to that line, before the error.
	Attrs func() []any
	// Name names the work in the line logged when a pass succeeds after
	// failures: "<Name> recovered".
	Name     string
	LogEvery time.Duration
}

// Loop runs a Config's passes between Open and Close. The zero Loop is
// ready: Wake before Open is kept for the first wait, and Close before
// Open does nothing.
type Loop struct {
	wakeOnce sync.Once
	wake     chan struct{}

	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}

	mu           sync.Mutex
	failures     int       // failed passes in a row, under mu
	failingSince time.Time // start of the first of them, under mu
	lastLog      time.Time // of the last failure line, under mu
}

// Open starts the loop: a pass at once, then one after every wait.
func (l *Loop) Open(cfg Config) error {
	return l.open(context.Background(), false, cfg)
}

// OpenAfterPass runs the first pass under ctx before it returns, so that its
// outcome is in place for the caller, then starts the loop; the next pass
// is one wait after it.
func (l *Loop) OpenAfterPass(ctx context.Context, cfg Config) error {
	return l.open(ctx, true, cfg)
}

// open starts the loop; with passFirst it runs the first pass under first
// before it returns.
func (l *Loop) open(first context.Context, passFirst bool, cfg Config) error {
	switch {
	case cfg.Run == nil:
		return errors.New("loop: no Run")
	case cfg.Interval <= 0 && cfg.Next == nil:
		return errors.New("loop: Interval must be positive")
	case l.cancel != nil:
		return errors.New("loop: already open")
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = DefaultLogEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l.cfg = cfg
	l.initWake()
	var firstWait time.Duration
	runFirst := !passFirst
	if passFirst {
		firstWait = l.pass(first)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	var wg sync.WaitGroup
	for range max(cfg.Workers, 1) {
		wg.Go(func() { l.work(ctx, runFirst, firstWait) })
	}
	go func() {
		wg.Wait()
		close(l.done)
	}()
	return nil
}

func (l *Loop) initWake() {
	l.wakeOnce.Do(func() { l.wake = make(chan struct{}, 1) })
}

// Wake runs a pass now, or at the end of the one under way; it never
// blocks, and wake-ups coalesce.
func (l *Loop) Wake() {
	l.initWake()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Close stops the loop and waits for the pass under way, whose ctx it
// cancels, until ctx ends. It may be called again, to wait longer.
func (l *Loop) Close(ctx context.Context) error {
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// work is one worker: a pass (unless the opener ran it), then a wait for
// the timer, a wake-up or Close.
func (l *Loop) work(ctx context.Context, runFirst bool, wait time.Duration) {
	if runFirst {
		wait = l.pass(ctx)
	}
	for {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-l.wake:
		case <-timer.C:
		}
		timer.Stop()
		if ctx.Err() != nil {
			return
		}
		wait = l.pass(ctx)
	}
}

// pass runs one pass, records its outcome and returns the wait before the
// next.
func (l *Loop) pass(ctx context.Context) time.Duration {
	began := time.Now()
	err := l.cfg.Run(ctx)
	if err != nil && ctx.Err() != nil {
		err = nil // cut short by Close (or the opener's ctx), not failed
	}
	failures := l.record(err)
	var wait time.Duration
	if l.cfg.Next != nil {
		wait = l.cfg.Next()
	} else {
		wait = l.cfg.Interval - time.Since(began)
	}
	if b := l.backoff(failures); b > 0 {
		wait = max(wait, b-time.Since(began))
	}
	return max(wait, 0)
}

// backoff is the least time from the start of a failed pass to the next,
// or 0 when the loop does not back off.
func (l *Loop) backoff(failures int) time.Duration {
	if failures == 0 || l.cfg.MaxBackoff <= l.cfg.Interval {
		return 0
	}
	if failures-1 >= 32 {
		return l.cfg.MaxBackoff
	}
	if d := l.cfg.Interval << (failures - 1); d > 0 && d < l.cfg.MaxBackoff {
		return d
	}
	return l.cfg.MaxBackoff
}

// record counts a pass's outcome, logs what is due, and returns the
// failures in a row.
func (l *Loop) record(err error) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if errors.Is(err, ErrSkip) {
		return l.failures
	}
	if err == nil {
		if l.failures > 0 {
			l.cfg.Logger.Info(l.cfg.Name+" recovered",
				"failures", l.failures, "failing_for", now.Sub(l.failingSince).Round(time.Second).String())
		}
		l.failures = 0
		return 0
	}
	l.failures++
	if l.failures == 1 {
		l.failingSince = now
	} else if now.Sub(l.lastLog) < l.cfg.LogEvery {
		return l.failures
	}
	l.lastLog = now
	var args []any
	if l.cfg.Attrs != nil {
		args = l.cfg.Attrs()
	}
	if l.failures > 1 {
		args = append(args, "failures", l.failures)
	}
	args = append(args, slog.Any("error", err))
	l.cfg.Logger.Log(context.Background(), l.cfg.Level, l.cfg.Message, args...)
	return l.failures
}
