package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/store"
)

// runMigrateSQLiteToPostgres copies a SQLite hub into the empty PostgreSQL
// database the config names. The DSN may hold a password: it is never
// printed.
func runMigrateSQLiteToPostgres(ctx context.Context, args []string, stdout io.Writer, environ []string) error {
	fs := flag.NewFlagSet("migrate-sqlite-to-postgres", flag.ContinueOnError)
	configPath := fs.String("config", "", "config file")
	from := fs.String("from", "", "the SQLite database to copy (default: server.data_dir/hub.db)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: hub migrate-sqlite-to-postgres [--config hub.yaml] [--from PATH]")
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	if cfg.Database.Driver != "postgres" {
		return errors.New("no target: set database.dsn (or HUB_DATABASE_DSN) to the new, empty PostgreSQL database")
	}
	src := *from
	if src == "" {
		src = databasePath(cfg)
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	dst := newStore(cfg)
	if err := dst.Open(ctx); err != nil {
		return err
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "copying %s into PostgreSQL (schema migrated), in one transaction\n", src)
	res, err := store.CopyToPostgres(ctx, src, dst, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done: %d tables, %d rows in %v (%.0f rows/s); row counts verified, id sequences moved past the copied ids\n",
		len(res.Tables), res.Rows, res.Elapsed.Round(time.Millisecond), float64(res.Rows)/max(res.Elapsed.Seconds(), 1e-3))
	fmt.Fprintln(stdout, "start the hub with the same secrets.key (HUB_SECRETS_KEY) so that customer secrets open; keep the SQLite file until it runs")
	return nil
}
