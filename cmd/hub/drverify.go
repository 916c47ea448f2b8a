package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/dr"
)

// errDRNotReady makes hub dr-verify exit 1.
var errDRNotReady = errors.New("dr-verify: not every checked customer is ready")

// runDRVerify is the monthly drill: it opens the database (SQLite or
// PostgreSQL, with secrets.key to open the bundles), grades every managed
// customer's latest bundle offline, with the rules the hub runs, and
// prints a table. Nothing is stored and no event is raised. Any customer
// at_risk or not_recoverable is a failure (SPEC §7.3).
func runDRVerify(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) error {
	fs := flag.NewFlagSet("dr-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (optional)")
	only := fs.String("customer", "", "check only this customer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: hub dr-verify [--config hub.yaml] [--customer ID]")
	}
	if *only != "" {
		if err := hub.ValidateCustomerID(*only); err != nil {
			return fmt.Errorf("--customer: %s", hub.ErrorMessage(err))
		}
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	if cfg.Database.Driver != "postgres" {
		// A drill on a path without a database must not create one.
		if _, err := os.Stat(databasePath(cfg)); err != nil {
			return fmt.Errorf("no hub database at %s: %w", databasePath(cfg), err)
		}
	}
	db := newStore(cfg)
	key, err := cfg.SecretsKey()
	if err != nil {
		return err
	}
	if key != nil {
		if err := db.SetSecretsKey(key); err != nil {
			return err
		}
	}
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	templates := configgen.NewTemplates(db, logger)
	templates.HubURL = strings.TrimRight(cfg.Server.PublicURL, "/") // as serve generates configs; no fetching
	if err := templates.Open(ctx); err != nil {
		return err
	}
	checker := &dr.Checker{Store: db, Configs: templates, MaxBundleAge: cfg.DR.MaxBundleAge.D(),
		MaxRestoreTestAge: cfg.DR.MaxRestoreTestAge.D(), Now: time.Now, Logger: logger}
	results, err := checker.AssessAll(ctx, *only)
	if err != nil {
		return err
	}
	hub.SortDRByRisk(results)
	return printDRTable(stdout, results, time.Now())
}

// printDRTable writes one line per customer and a reason per line below
// it; errDRNotReady when any grade is not ready.
func printDRTable(w io.Writer, results []*hub.DRReadiness, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CUSTOMER\tGRADE\tBUNDLE AGE\tREASONS")
	notReady := 0
	for _, r := range results {
		age := "no bundle"
		if r.BundleAt != nil {
			age = hub.FormatAge(now.Sub(*r.BundleAt))
		}
		if r.Grade != hub.DRReady {
			notReady++
		}
		codes := make([]string, 0, len(r.Reasons))
		for _, reason := range r.Reasons {
			codes = append(codes, reason.Code)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.CustomerID, r.Grade, age, strings.Join(codes, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		for _, reason := range r.Reasons {
			fmt.Fprintf(w, "%s: %s: %s\n", r.CustomerID, reason.Code, reason.Message)
		}
	}
	fmt.Fprintf(w, "%d customer(s) checked, %d not ready\n", len(results), notReady)
	if notReady > 0 {
		return errDRNotReady
	}
	return nil
}
