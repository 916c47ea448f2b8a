// Command fleetsim simulates felhom nodes against a hub: a gentle living
// fleet (--demo) or reports as fast as the hub takes them (--load).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/felhom/hub/fleetsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleetsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubURL := fs.String("hub", "http://127.0.0.1:8080", "hub base URL")
	keyFile := fs.String("key-file", "data/global-api-key", "file holding the hub's global API key (or set FLEETSIM_KEY)")
	customers := fs.Int("customers", 25, "number of simulated customers")
	prefix := fs.String("prefix", "sim", "customer id prefix")
	size := fs.Int("report-size", 20<<10, "approximate controller report size in bytes")
	seed := fs.Uint64("seed", 1, "random seed")
	demo := fs.Bool("demo", false, "run a gentle living fleet until interrupted")
	interval := fs.Duration("interval", 20*time.Second, "demo: real time between report rounds")
	accel := fs.Float64("accel", 96, "demo: simulated seconds per real second (paces daily events)")
	load := fs.Bool("load", false, "post reports as fast as the hub takes them")
	fleetRead := fs.Bool("fleet-read", false, "seed one report per customer and --events events, then time the fleet reads (/ and /api/v1/customers), idle and during --load-style ingest for --duration")
	events := fs.Int("events", 30000, "fleet-read: error and warning events to seed")
	reads := fs.Int("reads", 100, "fleet-read: idle reads of each fleet path")
	concurrency := fs.Int("concurrency", 32, "load: concurrent connections")
	requests := fs.Int("requests", 0, "load: stop after this many reports (0 = use --duration)")
	duration := fs.Duration("duration", 30*time.Second, "load: how long to run")
	controllers := fs.String("controllers", "127.0.0.1:0", "demo: serve simulated controllers here (empty = none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if n := btoi(*demo) + btoi(*load) + btoi(*fleetRead); n != 1 {
		return errors.New("choose one of --demo, --load or --fleet-read")
	}
	key := os.Getenv("FLEETSIM_KEY")
	if key == "" {
		raw, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("global key: %w (use --key-file or FLEETSIM_KEY)", err)
		}
		key = strings.TrimSpace(string(raw))
	}
	client := fleetsim.NewClient(*hubURL, key, *concurrency)
	// Registering managed customers uses the admin API: an admin token.
	if client.AdminKey = os.Getenv("FLEETSIM_ADMIN_KEY"); client.AdminKey == "" {
		return errors.New("set FLEETSIM_ADMIN_KEY to an admin token (api.admin_api_key, or one from: hub token add fleetsim --scope admin)")
	}
	opts := fleetsim.Options{Prefix: *prefix, Customers: *customers, ReportSize: *size, Seed: *seed, AllSteady: *load || *fleetRead, Log: stdout}
	if *demo && *controllers != "" {
		c, err := fleetsim.StartControllers(*controllers)
		if err != nil {
			return err
		}
		defer c.Close()
		opts.Controllers = c
	}
	fmt.Fprintf(stdout, "registering %d customers at %s\n", *customers, *hubURL)
	fleet, err := fleetsim.Register(ctx, client, opts)
	if err != nil {
		return err
	}
	if *demo {
		fmt.Fprintf(stdout, "demo fleet running (report every %s, %gx time); Ctrl-C stops\n", *interval, *accel)
		return fleet.Demo(ctx, fleetsim.DemoOptions{Interval: *interval, Accel: *accel})
	}
	if *fleetRead {
		return runFleetRead(ctx, fleet, stdout, *concurrency, *events, *reads, *duration)
	}
	fmt.Fprintf(stdout, "load: %d connections, %s\n", *concurrency, describe(*requests, *duration))
	res, err := fleet.Load(ctx, *concurrency, *requests, *duration, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res)
	if res.Errors > 0 {
		return fmt.Errorf("%d requests failed", res.Errors)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runFleetRead seeds the fleet (a report from every node, then events) and
// times the two fleet reads: idle, then while reports are ingested.
func runFleetRead(ctx context.Context, fleet *fleetsim.Fleet, stdout io.Writer, concurrency, events, reads int, duration time.Duration) error {
	if res, err := fleet.Load(ctx, concurrency, len(fleet.Nodes), 0, ""); err != nil || res.Errors > 0 {
		return fmt.Errorf("seed reports: %v (%d failed)", err, res.Errors)
	}
	fmt.Fprintf(stdout, "seeding %d events\n", events)
	if err := fleet.SeedEvents(ctx, events, concurrency); err != nil {
		return fmt.Errorf("seed events: %w", err)
	}
	paths := []string{"/", "/api/v1/customers"}
	for _, p := range paths {
		fleet.Read(ctx, p, 3) // warm up
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, "idle:", fleet.Read(ctx, p, reads))
	}
	if duration <= 0 {
		return nil
	}
	loadCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var wg sync.WaitGroup
	results := make([]fleetsim.ReadResult, len(paths))
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = fleet.Read(loadCtx, p, 0)
		}()
	}
	res, err := fleet.Load(loadCtx, concurrency, 0, duration, "")
	wg.Wait()
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintln(stdout, "during ingest:", r)
	}
	fmt.Fprintln(stdout, "ingest meanwhile:", res)
	return nil
}

func describe(requests int, d time.Duration) string {
	if requests > 0 {
		return fmt.Sprintf("%d reports", requests)
	}
	return "for " + d.String()
}
