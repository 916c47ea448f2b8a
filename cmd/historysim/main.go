// Command historysim measures what the hub's history costs on disk: it
// writes a simulated fleet's controller and host reports (fleetsim's
// realistic bodies, every 15 minutes) straight into a fresh store with a
// simulated clock, runs the history worker and the 04:30 prune as the hub
// does, and prints the database size day by day and a breakdown by table.
//
//	go run ./cmd/historysim --nodes 50 --days 95
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "historysim:", err)
		os.Exit(1)
	}
}

// clock is the simulated time every component reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("historysim", flag.ContinueOnError)
	nodes := fs.Int("nodes", 50, "simulated nodes (each a controller and a host agent)")
	days := fs.Int("days", 95, "simulated days")
	size := fs.Int("report-size", 20<<10, "average controller report size in bytes (spread 50–150 %)")
	fullDays := fs.Int("full-days", 7, "retention.full_days")
	maxDays := fs.Int("max-days", 90, "retention.max_days")
	dir := fs.String("dir", "", "directory for the database (a temp dir when empty)")
	every := fs.Int("print-every", 5, "print a line every this many days")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "historysim-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	path := filepath.Join(*dir, "hub.db")
	if _, err := os.Stat(path); err == nil {
		return errors.New(path + " exists: historysim needs a fresh database")
	}
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	clk := &clock{now: start}
	db := store.NewDB(path)
	db.Now = clk.Now
	db.Tiers = hub.NewHistoryTiers(*fullDays, *maxDays)
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()

	sim, err := register(ctx, db, *nodes, *size)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	worker := &monitor.HistoryWorker{Store: db, Logger: logger}
	pruner := &monitor.Pruner{Store: db, History: db, MaxAge: db.Tiers.MaxAge, Now: clk.Now, Logger: logger}
	zone := monitor.LoadHubZone()

	fmt.Fprintf(out, "%d nodes, %d days, full_days %d, max_days %d, reports every 15 min from each controller and host agent\n\n",
		*nodes, *days, *fullDays, *maxDays)
	fmt.Fprintln(out, "| day | JSON received/node/day | database + WAL | per node | per node per retained day |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	var received int64
	began := time.Now()
	for day := 0; day < *days; day++ {
		var dayBytes int64
		for q := 0; q < 96; q++ {
			t := start.Add(time.Duration(day*96+q) * 15 * time.Minute)
			clk.Set(t)
			n, err := reportRound(ctx, db, sim, t)
			if err != nil {
				return err
			}
			dayBytes += n
			if _, _, err := worker.RunOnce(ctx); err != nil {
				return err
			}
			// The daily prune at 04:30 Budapest time.
			local := t.In(zone)
			if local.Hour() == 4 && local.Minute() == 30 {
				if err := pruner.Run(ctx, t); err != nil {
					return err
				}
			}
		}
		received += dayBytes
		if (day+1)%*every == 0 || day == *days-1 {
			file, wal, err := dbSize(path)
			if err != nil {
				return err
			}
			size, retained := file+wal, min(day+1, *maxDays)
			fmt.Fprintf(out, "| %d | %s | %s + %s | %s | %s |\n", day+1, kib(dayBytes/int64(*nodes)), mib(file), mib(wal),
				kib(size/int64(*nodes)), kib(size/int64(*nodes)/int64(retained)))
		}
	}
	fmt.Fprintf(out, "\nsimulated in %s; %s of JSON received in all\n\n", time.Since(began).Round(time.Second), mib(received))
	return breakdown(ctx, out, path, *nodes)
}

// register creates the customers and hosts and their simulated nodes,
// with fleetsim's spread of report sizes around size.
func register(ctx context.Context, db *store.DB, nodes, size int) ([]*fleetsim.Node, error) {
	var sim []*fleetsim.Node
	for i := range nodes {
		id := fmt.Sprintf("sim-%05d", i)
		cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
		cfg.MintCredentials()
		if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
			return nil, err
		}
		if err := db.UpsertHost(ctx, &hub.Host{ID: id + "-host", CustomerID: id}, ""); err != nil {
			return nil, err
		}
		reportSize := max(2<<10, min(40<<10, size/2+(i*7919)%size))
		sim = append(sim, fleetsim.NewNode(id, uint64(i+1), reportSize))
	}
	return sim, nil
}

// reportRound stores every node's controller and host report at t, from a
// few goroutines so that group commit batches them as under real load, and
// returns the JSON bytes received.
func reportRound(ctx context.Context, db *store.DB, sim []*fleetsim.Node, t time.Time) (int64, error) {
	const workers = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		bytes int64
		first error
	)
	next := make(chan *fleetsim.Node)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				size, err := postNode(ctx, db, n, t)
				mu.Lock()
				bytes += size
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, n := range sim {
		next <- n
	}
	close(next)
	wg.Wait()
	return bytes, first
}

func postNode(ctx context.Context, db *store.DB, n *fleetsim.Node, t time.Time) (int64, error) {
	n.Tick(15 * time.Minute)
	r, err := hub.ParseReport(n.Report(t, true), t)
	if err != nil {
		return 0, err
	}
	if _, err := db.CreateReport(ctx, r); err != nil {
		return 0, err
	}
	h, err := hub.ParseHostReport(n.HostReport(n.CustomerID+"-host", t))
	if err != nil {
		return 0, err
	}
	if _, err := db.CreateHostReport(ctx, h); err != nil {
		return 0, err
	}
	return int64(len(r.Raw) + len(h.Raw)), nil
}

// dbSize returns the sizes on disk of the database file and its
// write-ahead log.
func dbSize(path string) (file, wal int64, err error) {
	sizes := [2]int64{}
	for i, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return 0, 0, err
		}
		sizes[i] = st.Size()
	}
	return sizes[0], sizes[1], nil
}

// breakdown prints the bytes of each table and index (SQLite's dbstat) and
// the compression of the stored bodies.
func breakdown(ctx context.Context, out io.Writer, path string, nodes int) error {
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT name, SUM(pgsize), SUM(unused) FROM dbstat GROUP BY name`)
	if err != nil {
		return err
	}
	type part struct {
		name          string
		bytes, unused int64
	}
	var parts []part
	var total int64
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.name, &p.bytes, &p.unused); err != nil {
			rows.Close()
			return err
		}
		parts = append(parts, p)
		total += p.bytes
	}
	rows.Close()
	sort.Slice(parts, func(i, j int) bool { return parts[i].bytes > parts[j].bytes })
	fmt.Fprintln(out, "| table or index | bytes | per node | share |")
	fmt.Fprintln(out, "|---|---|---|---|")
	for _, p := range parts {
		if p.bytes*1000 < total {
			continue
		}
		fmt.Fprintf(out, "| %s | %s | %s | %.0f %% |\n", p.name, mib(p.bytes), kib(p.bytes/int64(nodes)), float64(p.bytes)*100/float64(total))
	}
	var free, pageSize int64
	if err := conn.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return err
	}
	fmt.Fprintf(out, "| (free pages) | %s | | |\n\n", mib(free*pageSize))

	for _, st := range []struct{ table, bodies string }{{"reports", "report_bodies"}, {"host_reports", "host_report_bodies"}} {
		var n, deltas, deltaBytes, alone, aloneBytes int64
		err := conn.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM `+st.table+`),
				COUNT(keyframe_id), COALESCE(SUM(CASE WHEN keyframe_id IS NOT NULL THEN length(body) END), 0),
				COUNT(*) - COUNT(keyframe_id), COALESCE(SUM(CASE WHEN keyframe_id IS NULL THEN length(body) END), 0)
			FROM `+st.bodies).Scan(&n, &deltas, &deltaBytes, &alone, &aloneBytes)
		if err != nil {
			return err
		}
		var keyframes, keyframeBytes int64
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(length(body)), 0) FROM body_keyframes WHERE stream = $1`, st.table).
			Scan(&keyframes, &keyframeBytes); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d rows; %d delta bodies, %d B average; %d self-contained bodies, %d B average; %d keyframes, %d B average\n",
			st.table, n, deltas, deltaBytes/max(1, deltas), alone, aloneBytes/max(1, alone), keyframes, keyframeBytes/max(1, keyframes))
	}
	return nil
}

func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
