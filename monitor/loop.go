package monitor

import (
	"context"
	"sync"
	"time"
)

// looper runs a function now and then on every tick until it is stopped: the
// Open/Close part every component of this package shares.
type looper struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start runs fn at once and then every interval in a goroutine.
func (l *looper) start(interval time.Duration, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
}

// stop cancels the loop and waits for it, or for ctx to end.
func (l *looper) stop(ctx context.Context) error {
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
