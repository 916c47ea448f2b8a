package monitor_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/store"
)

// TestIngestLatencyDuringHistoryWork measures what the history worker and
// the tiered prune do to ingest: the latency of CreateReport (20 KB
// realistic reports from 16 goroutines, through group commit) alone, while
// the worker works through a backlog of 9 days of 20 nodes, and while the
// prune deletes 5 of those days and returns the pages. It prints a table
// and asserts nothing; it takes a few minutes:
//
//	HUB_HISTORY_BENCH=1 go test -run IngestLatencyDuring -v ./monitor/
func TestIngestLatencyDuringHistoryWork(t *testing.T) {
	if os.Getenv("HUB_HISTORY_BENCH") == "" {
		t.Skip("set HUB_HISTORY_BENCH=1 to measure")
	}
	ctx := context.Background()
	t.Logf("| while | reports | reports/s | p50 | p99 | max | background took |")
	t.Logf("|---|---|---|---|---|---|---|")
	for _, mode := range []string{"nothing", "history worker (backlog)", "prune + incremental vacuum"} {
		start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
		clock := NewClock(start)
		db := openDB(t, "", clock)
		nodes := seedHistory(t, db, clock, 20, 9)
		worker := &monitor.HistoryWorker{Store: db, Pause: monitor.DefaultHistoryPause, Logger: discard}
		var background func() error
		switch mode {
		case "nothing":
			if _, _, err := worker.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			background = func() error { time.Sleep(5 * time.Second); return nil }
		case "history worker (backlog)":
			background = func() error { _, _, err := worker.RunOnce(ctx); return err }
		default:
			if _, _, err := worker.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Add(3 * 24 * time.Hour)
			p := &monitor.Pruner{Store: db, History: db, MaxAge: 90 * 24 * time.Hour, ReclaimPause: 20 * time.Millisecond, Now: clock.Now, Logger: discard}
			background = func() error { return p.Run(ctx, clock.Now()) }
		}
		lat, took, err := ingestWhile(db, clock, nodes, background)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		t.Logf("| %s | %d | %.0f | %s | %s | %s | %s |", mode, len(lat), float64(len(lat))/took.Seconds(),
			lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond),
			lat[len(lat)-1].Round(100*time.Microsecond), took.Round(10*time.Millisecond))
	}
}

// seedHistory writes days of history of n simulated nodes, controller and
// host reports every 15 minutes, and leaves the clock at the end.
func seedHistory(t *testing.T, db *store.DB, clock *Clock, n, days int) []*fleetsim.Node {
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
				r, err := hub.ParseReport(node.Report(clock.Now(), true))
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

// ingestWhile posts reports from 16 goroutines until background returns,
// and returns each report's latency and how long background took.
func ingestWhile(db *store.DB, clock *Clock, nodes []*fleetsim.Node, background func() error) ([]time.Duration, time.Duration, error) {
	reports := make([]*hub.Report, len(nodes))
	for i, n := range nodes {
		r, err := hub.ParseReport(n.Report(clock.Now(), true))
		if err != nil {
			return nil, 0, err
		}
		reports[i] = r
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu   sync.Mutex
		all  []time.Duration
		wg   sync.WaitGroup
		fail error
	)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for i := g; ctx.Err() == nil; i++ {
				t0 := time.Now()
				if _, err := db.CreateReport(context.Background(), reports[i%len(reports)]); err != nil {
					mu.Lock()
					fail = err
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	t0 := time.Now()
	err := background()
	took := time.Since(t0)
	cancel()
	wg.Wait()
	if err == nil {
		err = fail
	}
	return all, took, err
}
