// Command hub is the felhom fleet hub: it ingests controller and agent
// reports, watches for silent nodes, and serves the operator's dashboard.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=x.y.z".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

const usage = `usage: hub <command> [arguments]

commands:
  serve [--config hub.yaml]          run the hub (no file needed: defaults + HUB_* environment)
  serve --demo                       run a throw-away hub with a simulated fleet on a temporary database
  version                            print the version
  hash-password                      read a password (at least 8 characters; prompted without echo
                                     on a terminal, else one line on stdin), print its bcrypt hash
                                     for auth.password_hash
  check-config FILE                  validate a config file and name the bad key
  backup [--config hub.yaml] FILE    write a consistent copy of the live database to FILE
  migrate-sqlite-to-postgres [--config hub.yaml] [--from PATH]
                                     copy a SQLite hub database (default server.data_dir/hub.db)
                                     into the empty PostgreSQL database database.dsn names
`

// run dispatches a command and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, stderr, environ)
	case "version":
		fmt.Fprintln(stdout, "hub", Version)
	case "hash-password":
		err = runHashPassword(stdin, stdout, stderr)
	case "check-config":
		err = runCheckConfig(rest, stdout, environ)
	case "backup":
		err = runBackup(ctx, rest, stdout, environ)
	case "migrate-sqlite-to-postgres":
		err = runMigrateSQLiteToPostgres(ctx, rest, stdout, environ)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "hub: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	return 0
}
