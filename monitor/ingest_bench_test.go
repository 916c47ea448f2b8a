package monitor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/store"
)

// TestIngestLatencyDuringHistoryWork measures what the history worker and
// the tiered prune do to ingest latency: CreateReport of 20 KB realistic
// reports from 16 goroutines (through group commit) runs throughout, while
// the background work is switched on and off in turns — 4 s off, then on
// (the worker for 5 s on a backlog of 9 days of 20 nodes, as after a long
// downtime or the conversion of an older database; or one daily prune of
// a day of history with its incremental vacuum) — four times. Comparing
// the reports sent while it was on with those sent while it was off, in
// the same minute, keeps a noisy shared machine out of the comparison. It
// prints a table and asserts nothing; it takes a few minutes:
//
//	HUB_HISTORY_BENCH=1 go test -run IngestLatencyDuring -v -timeout 30m ./monitor/
func TestIngestLatencyDuringHistoryWork(t *testing.T) {
	if os.Getenv("HUB_HISTORY_BENCH") == "" {
		t.Skip("set HUB_HISTORY_BENCH=1 to measure")
	}
	ctx := context.Background()
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	seeded := filepath.Join(t.TempDir(), "seeded.db")
	db := openDB(t, seeded, clock)
	nodes := seedHistory(t, db, clock, 20, 9)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	end := clock.Now()

	t.Logf("| background work | state | reports | p50 | p99 | max |")
	t.Logf("|---|---|---|---|---|---|")
	for _, mode := range []string{"history worker (backlog)", "daily prune + incremental vacuum"} {
		clock := clocktest.New(end)
		path := filepath.Join(t.TempDir(), "copy.db")
		if err := store.Backup(ctx, seeded, path); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, path, clock)
		var work func() error
		if mode == "history worker (backlog)" {
			worker := &monitor.HistoryWorker{Store: db, Pause: monitor.DefaultHistoryPause, Logger: discard}
			work = func() error {
				ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				_, _, err := worker.RunOnce(ctx)
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		} else {
			catchUp(t, db)
			p := &monitor.Pruner{Store: db, History: db, MaxAge: 90 * 24 * time.Hour, ReclaimPause: 20 * time.Millisecond, Now: clock.Now, Logger: discard}
			work = func() error {
				clock.Add(24 * time.Hour)
				return p.Run(ctx, clock.Now())
			}
		}
		off, on, err := ingestInTurns(db, clock, nodes, work)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct {
			state string
			lat   []time.Duration
		}{{"off", off}, {"on", on}} {
			sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
			t.Logf("| %s | %s | %d | %s | %s | %s |", mode, r.state, len(r.lat),
				r.lat[len(r.lat)/2].Round(10*time.Microsecond), r.lat[len(r.lat)*99/100].Round(10*time.Microsecond),
				r.lat[len(r.lat)-1].Round(100*time.Microsecond))
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// catchUp rolls up and compacts everything, unpaced.
func catchUp(t *testing.T, db *store.DB) {
	t.Helper()
	for {
		r, err := db.RollUpHistory(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.CompactHistory(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if r == 0 && c == 0 {
			return
		}
	}
}

// seedHistory writes days of history of n simulated nodes, controller and
// host reports every 15 minutes, and leaves the clock at the end.
func seedHistory(t *testing.T, db *store.DB, clock *clocktest.Clock, n, days int) []*fleetsim.Node {
	t.Helper()
	ctx := context.Background()
	var nodes []*fleetsim.Node
	for i := range n {
		id := fmt.Sprintf("node-%03d", i)
		mustConfig(t, db, id, nil)
		if err := db.UpsertHost(ctx, &hub.Host{ID: id + "-host", CustomerID: id}, ""); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, fleetsim.NewNode(id, uint64(i+1), 20<<10))
	}
	for q := 0; q < days*96; q++ {
		var wg sync.WaitGroup
		errs := make(chan error, len(nodes))
		for _, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node.Tick(15 * time.Minute)
				r, err := hub.ParseReport(node.Report(clock.Now(), true), time.Now())
				if err == nil {
					_, err = db.CreateReport(ctx, r)
				}
				var h *hub.HostReport
				if err == nil {
					h, err = hub.ParseHostReport(node.HostReport(node.CustomerID+"-host", clock.Now()))
				}
				if err == nil {
					_, err = db.CreateHostReport(ctx, h)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		clock.Add(15 * time.Minute)
	}
	return nodes
}

// ingestInTurns posts reports from 16 goroutines throughout four turns of
// 4 s without background work and one run of work, and returns the
// latencies of the reports started while work was off and while it was on.
func ingestInTurns(db *store.DB, clock *clocktest.Clock, nodes []*fleetsim.Node, work func() error) (off, on []time.Duration, err error) {
	reports := make([]*hub.Report, len(nodes))
	for i, n := range nodes {
		if reports[i], err = hub.ParseReport(n.Report(clock.Now(), true), time.Now()); err != nil {
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		working atomic.Bool
		mu      sync.Mutex
		wg      sync.WaitGroup
		fail    error
	)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var offLat, onLat []time.Duration
			for i := g; ctx.Err() == nil; i++ {
				during := working.Load()
				t0 := time.Now()
				if _, err := db.CreateReport(context.Background(), reports[i%len(reports)]); err != nil {
					mu.Lock()
					fail = err
					mu.Unlock()
					return
				}
				if during || working.Load() {
					onLat = append(onLat, time.Since(t0))
				} else {
					offLat = append(offLat, time.Since(t0))
				}
			}
			mu.Lock()
			off, on = append(off, offLat...), append(on, onLat...)
			mu.Unlock()
		}()
	}
	for range 4 {
		time.Sleep(4 * time.Second)
		working.Store(true)
		err = work()
		working.Store(false)
		if err != nil {
			break
		}
	}
	cancel()
	wg.Wait()
	if err == nil {
		err = fail
	}
	return off, on, err
}
