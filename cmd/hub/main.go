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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first SIGINT or SIGTERM starts a clean shutdown (serve drains,
	// then closes); a second exits at once, for an operator who will not
	// wait for it.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		cancel()
		sig := <-signals
		fmt.Fprintf(os.Stderr, "hub: second signal (%s): exiting without finishing the shutdown\n", sig)
		os.Exit(exitSecondSignal)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// exitSecondSignal is the exit code after a second signal cut the shutdown
// short.
const exitSecondSignal = 2

const usage = `usage: hub <command> [arguments]

commands:
  serve [--config hub.yaml]          run the hub (no file needed: defaults + HUB_* environment)
  serve --demo                       run a throw-away hub with a simulated fleet on a temporary database
  version                            print the version, commit, build time and Go version
  hash-password                      read a password (at least 8 characters; prompted without echo
                                     on a terminal, else one line on stdin), print its bcrypt hash
                                     for auth.password_hash
  check-config FILE                  validate a config file and name the bad key
  backup [--config hub.yaml] FILE    write a consistent copy of the live database to FILE
  user add NAME --role admin|viewer [--config FILE]
                                     add an operator account (password on stdin; asked twice on a terminal)
  user passwd|remove NAME [--config FILE], user list [--config FILE]
                                     change a password (ends its sessions), remove or list accounts
  token add NAME --scope read|admin [--expires 720h] [--config FILE]
                                     print a new API token (shown once)
  dr-verify [--config hub.yaml] [--customer ID]
                                     check every recovery bundle offline; exit 1 unless all are ready
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
		printVersion(stdout)
	case "hash-password":
		err = runHashPassword(stdin, stdout, stderr)
	case "check-config":
		err = runCheckConfig(rest, stdout, environ)
	case "backup":
		err = runBackup(ctx, rest, stdout, environ)
	case "user":
		err = runUser(ctx, rest, stdin, stdout, stderr, environ)
	case "token":
		err = runToken(ctx, rest, stdout, stderr, environ)
	case "dr-verify":
		err = runDRVerify(ctx, rest, stdout, stderr, environ)
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
