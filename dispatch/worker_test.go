package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/dispatch"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/store"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder is a dispatcher that counts what it is handed.
type recorder struct {
	mu    sync.Mutex
	seen  map[int64]int
	types []string
	fail  error
	got   chan int64
}

func newRecorder() *recorder {
	return &recorder{seen: map[int64]int{}, got: make(chan int64, 1000)}
}

func (r *recorder) DispatchEvent(_ context.Context, e *hub.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.seen[e.ID]++
	r.types = append(r.types, e.Type)
	r.got <- e.ID
	return nil
}

// exactlyOnce fails unless every id was dispatched once and nothing else was.
func (r *recorder) exactlyOnce(t *testing.T, ids []int64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) != len(ids) {
		t.Fatalf("dispatched %d events, want %d", len(r.seen), len(ids))
	}
	for _, id := range ids {
		if r.seen[id] != 1 {
			t.Fatalf("event %d dispatched %d times", id, r.seen[id])
		}
	}
}

func openDB(t *testing.T, path string, c *clocktest.Clock) *store.DB {
	t.Helper()
	db := store.NewDB(path)
	db.Now = c.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func report(t *testing.T, db *store.DB, id string) {
	t.Helper()
	r, err := hub.ParseReport([]byte(fmt.Sprintf(`{"customer_id":%q}`, id)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateReport(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func postEvent(t *testing.T, db *store.DB, id string) int64 {
	t.Helper()
	e := &hub.Event{CustomerID: id, Type: "backup_failed", Severity: "error", Source: hub.SourceController, Message: "m"}
	if err := db.CreateEvent(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// storeMixedEvents stores posted and hub-generated events (stale, down,
// recovered, a missed backup) and returns their ids.
func storeMixedEvents(t *testing.T, db *store.DB, c *clocktest.Clock) []int64 {
	t.Helper()
	ctx := context.Background()
	report(t, db, "a-node")
	ids := []int64{postEvent(t, db, "a-node"), postEvent(t, db, "a-node")}
	checker := monitor.NewStalenessChecker(db, db, discard)
	checker.Now = c.Now
	for range 2 {
		c.Add(31 * time.Minute)
		res, err := checker.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Events {
			ids = append(ids, e.ID)
		}
	}
	report(t, db, "a-node") // node_recovered
	backups := &monitor.BackupChecker{Nodes: db, Events: db, Location: monitor.LoadHubZone(), Now: c.Now, Logger: discard}
	c.Add(48 * time.Hour)
	if err := backups.Run(ctx, c.Now()); err != nil {
		t.Fatal(err)
	}
	events, err := db.FindUndispatchedEvents(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var all []int64
	types := map[string]bool{}
	for _, e := range events {
		all = append(all, e.ID)
		types[e.Type] = true
	}
	for _, want := range []string{"backup_failed", hub.EventNodeStale, hub.EventNodeDown, hub.EventNodeRecovered,
		hub.EventExpectedBackupMissed, hub.EventExpectedDBDumpMissed} {
		if !types[want] {
			t.Fatalf("no %s among the stored events", want)
		}
	}
	return all
}

func TestWorkerDispatchesEveryEventOnce(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, filepath.Join(t.TempDir(), "hub.db"), c)
	ids := storeMixedEvents(t, db, c)

	rec := newRecorder()
	w := dispatch.NewWorker(db, rec, discard)
	w.BatchSize = 2 // several batches
	for range 3 {
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rec.exactlyOnce(t, ids)
}

func TestWorkerAfterRestart(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "hub.db")
	db := openDB(t, path, c)
	ids := storeMixedEvents(t, db, c)

	// The first run dispatches some events and then fails, as in a crash
	// or an outage of the provider; the rest stay queued.
	rec := newRecorder()
	w := dispatch.NewWorker(db, rec, discard)
	w.BatchSize = 3
	calls := 0
	flaky := dispatcherFunc(func(ctx context.Context, e *hub.Event) error {
		if calls++; calls > 2 {
			return errors.New("provider down")
		}
		return rec.DispatchEvent(ctx, e)
	})
	w.Dispatcher = flaky
	if _, err := w.RunOnce(context.Background()); err == nil {
		t.Fatal("no error from a failing dispatch")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path, c)
	w2 := dispatch.NewWorker(db, rec, discard)
	if err := w2.Open(); err != nil { // drains the queue at start
		t.Fatal(err)
	}
	waitFor(t, rec, len(ids)) // the 2 of the first run, then the rest
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.exactlyOnce(t, ids)
}

func TestWorkerWakesOnStore(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, filepath.Join(t.TempDir(), "hub.db"), c)
	report(t, db, "a-node")
	rec := newRecorder()
	w := dispatch.NewWorker(db, rec, discard)
	w.PollInterval = time.Hour // only a wake-up can deliver in time
	db.SetEventsStored(w.Notify)
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	var ids []int64
	for range 5 {
		id := postEvent(t, db, "a-node")
		ids = append(ids, id)
		waitFor(t, rec, 1)
	}
	rec.exactlyOnce(t, ids)
}

type dispatcherFunc func(context.Context, *hub.Event) error

func (f dispatcherFunc) DispatchEvent(ctx context.Context, e *hub.Event) error { return f(ctx, e) }

// waitFor waits for n more dispatches; the timeout only bounds a failure.
func waitFor(t *testing.T, rec *recorder, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-rec.got:
		case <-timeout:
			t.Fatalf("dispatcher not called in time")
		}
	}
}
