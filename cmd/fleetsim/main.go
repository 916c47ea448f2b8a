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
	concurrency := fs.Int("concurrency", 32, "load: concurrent connections")
	requests := fs.Int("requests", 0, "load: stop after this many reports (0 = use --duration)")
	duration := fs.Duration("duration", 30*time.Second, "load: how long to run")
	controllers := fs.String("controllers", "127.0.0.1:0", "demo: serve simulated controllers here (empty = none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *demo == *load {
		return errors.New("choose one of --demo or --load")
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
	opts := fleetsim.Options{Prefix: *prefix, Customers: *customers, ReportSize: *size, Seed: *seed, AllSteady: *load, Log: stdout}
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

func describe(requests int, d time.Duration) string {
	if requests > 0 {
		return fmt.Sprintf("%d reports", requests)
	}
	return "for " + d.String()
}
