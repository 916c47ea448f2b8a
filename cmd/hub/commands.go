package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/store"
	"golang.org/x/crypto/bcrypt"
)

// bcryptCost is the work factor of dashboard password hashes.
const bcryptCost = 12

func runHashPassword(stdin io.Reader, stdout io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < 8 {
		return errors.New("password must be at least 8 characters")
	}
	if len(password) > 72 {
		return errors.New("password must be at most 72 bytes (bcrypt's limit)")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(hash))
	return nil
}

func runCheckConfig(args []string, stdout io.Writer, environ []string) error {
	if len(args) != 1 {
		return errors.New("usage: hub check-config FILE")
	}
	if _, err := config.Load(args[0], environ); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return nil
}

func runBackup(ctx context.Context, args []string, stdout io.Writer, environ []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	configPath := fs.String("config", "", "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hub backup [--config hub.yaml] FILE")
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	if cfg.Database.Driver == "postgres" {
		return errors.New("hub backup copies the SQLite file; back up PostgreSQL with pg_dump (or your provider's snapshots)")
	}
	dest := fs.Arg(0)
	if err := store.Backup(ctx, databasePath(cfg), dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", dest)
	fmt.Fprintln(stdout, "The secrets key (secrets.key, or the file "+secretsKeyFile+" in the data directory) is not in the backup: "+
		"back it up separately; without it the customers' secrets in the backup cannot be read.")
	return nil
}

// databasePath is where the SQLite database lives.
func databasePath(cfg *config.Config) string {
	return filepath.Join(cfg.Server.DataDir, "hub.db")
}

// newStore returns the store cfg selects, not yet open.
func newStore(cfg *config.Config) *store.DB {
	if cfg.Database.Driver == "postgres" {
		return store.NewPostgresDB(cfg.Database.DSN)
	}
	return store.NewDB(databasePath(cfg))
}
