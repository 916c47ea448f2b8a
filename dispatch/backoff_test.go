package dispatch_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/dispatch"
)

// downQueue is a queue whose database is down: every read fails.
type downQueue struct {
	start time.Time
	mu    sync.Mutex
	reads []time.Duration
}

func (q *downQueue) FindUndispatchedEvents(context.Context, int) ([]*hub.Event, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reads = append(q.reads, time.Since(q.start))
	return nil, errors.New("database is down")
}

func (q *downQueue) MarkEventDispatched(context.Context, int64) error { return nil }

// While passes fail the worker polls less and less often, up to
// MaxBackoff; a wake-up still reads the queue at once.
func TestWorkerBacksOffWhileFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &downQueue{start: time.Now()}
		w := dispatch.NewWorker(q, newRecorder(), discard)
		if err := w.Open(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Second)
		w.Notify()
		time.Sleep(100 * time.Second)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := time.Second
		want := []time.Duration{0, 5 * s, 15 * s, 35 * s, 75 * s, 100 * s, 160 * s}
		if !slices.Equal(q.reads, want) {
			t.Errorf("queue read at %v, want %v", q.reads, want)
		}
	})
}
