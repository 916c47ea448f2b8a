package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/store"
	"golang.org/x/crypto/bcrypt"
)

// bcryptCost is the work factor of dashboard password hashes.
const bcryptCost = 12

func runHashPassword(stdin io.Reader, stdout, stderr io.Writer) error {
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if len(password) < minPasswordLength {
		return fmt.Errorf("password must be at least %d characters", minPasswordLength)
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

// minPasswordLength is the shortest password hash-password takes.
const minPasswordLength = 8

// readPassword reads one line: on a terminal it prompts on stderr, twice,
// without echo; from a pipe it reads the line as it comes.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	readLine := func(r *bufio.Reader) (string, error) {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	tty, ok := stdin.(*os.File)
	if !ok || !isTerminal(tty) {
		return readLine(bufio.NewReader(io.LimitReader(stdin, 1024)))
	}
	r := bufio.NewReader(io.LimitReader(tty, 4096))
	// Echo is off for both prompts: a line typed early is never shown.
	return withoutEcho(tty, func() (string, error) {
		prompt := func(text string) (string, error) {
			fmt.Fprint(stderr, text)
			line, err := readLine(r)
			fmt.Fprintln(stderr) // the Enter the terminal did not echo
			return line, err
		}
		first, err := prompt(fmt.Sprintf("Password (at least %d characters): ", minPasswordLength))
		if err != nil {
			return "", err
		}
		again, err := prompt("Password again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the two passwords differ")
		}
		return first, nil
	})
}

func runCheckConfig(args []string, stdout io.Writer, environ []string) error {
	if len(args) != 1 {
		return errors.New("usage: hub check-config FILE")
	}
	cfg, err := config.Load(args[0], environ)
	if err != nil {
		return err
	}
	if err := cfg.CheckDeployable(); err != nil {
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
