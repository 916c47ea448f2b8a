package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresDialect runs the store on PostgreSQL, for a hub of several
// replicas. Writes from every replica meet in the database, so they are
// kept apart there — by compare-and-set updates, leases and the advisory
// locks below — and a replica may as well write over several connections:
// a few group-commit writers (round trips, not the server, bound one), and
// a pool of read-only readers.
type postgresDialect struct {
	// dsn is a libpq connection string or postgres:// URL; it may hold a
	// password, so it is never logged or put in an error.
	dsn string
}

func (postgresDialect) name() string       { return "postgres" }
func (postgresDialect) migrations() string { return "migrations/postgres" }

// A replica's connections: readers, group-commit writers, and writers for
// everything else.
const (
	maxPostgresReaders   = 8
	postgresReportWriter = 4
	postgresOtherWriters = 2
)

func (postgresDialect) reportWriters() int { return postgresReportWriter }

func (d postgresDialect) open(ctx context.Context, db *DB) (*sql.DB, *sql.DB, error) {
	cfg, err := pgx.ParseConfig(d.dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, nil, errors.New("store: database.dsn is not a valid PostgreSQL connection string")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	// A lock held by another replica fails the statement after this long
	// rather than stalling the writer: the same promise as SQLite's
	// busy_timeout.
	setRuntimeParam(cfg, "lock_timeout", fmt.Sprintf("%d", db.BusyTimeout.Milliseconds()))
	setRuntimeParam(cfg, "application_name", "felhom-hub")

	write := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	write.SetMaxOpenConns(postgresReportWriter + postgresOtherWriters)
	write.SetMaxIdleConns(postgresReportWriter + postgresOtherWriters)
	write.SetConnMaxLifetime(time.Hour)
	if err := pingPostgres(ctx, write); err != nil {
		write.Close()
		return nil, nil, err
	}

	rcfg := cfg.Copy()
	setRuntimeParam(rcfg, "default_transaction_read_only", "on")
	read := sql.OpenDB(pgConnector{stdlib.GetConnector(*rcfg)})
	readers := min(maxPostgresReaders, max(4, runtime.GOMAXPROCS(0)*2))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxLifetime(time.Hour)
	return write, read, nil
}

func setRuntimeParam(cfg *pgx.ConnConfig, key, value string) {
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, set := cfg.RuntimeParams[key]; !set {
		cfg.RuntimeParams[key] = value
	}
}

// pingPostgres connects once, with an error that names the server but
// never the DSN.
func pingPostgres(ctx context.Context, db *sql.DB) error {
	if err := db.PingContext(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return fmt.Errorf("connect to PostgreSQL: %s (SQLSTATE %s)", pe.Message, pe.Code)
		}
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			return fmt.Errorf("connect to PostgreSQL at %s: %w", ce.Config.Host, errors.Unwrap(ce))
		}
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return nil
}

// migrationLock takes a session advisory lock on the migrating connection
// for as long as the migrations run; a replica that dies holding it drops
// it with its connection.
func (postgresDialect) migrationLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKeyMigrate); err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKeyMigrate)
	}, nil
}

func (postgresDialect) lockReportIDs(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, lockKeyReportIDs)
	return err
}

func (postgresDialect) lockReportIDsExclusive(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKeyReportIDs)
	return err
}

func (postgresDialect) lockCustomer(ctx context.Context, tx *sql.Tx, customerID string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClassCustomer, customerID)
	return err
}

func (postgresDialect) forUpdate(alias string) string { return " FOR UPDATE OF " + alias }

// PostgreSQL error classes that pass by themselves
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func (postgresDialect) unavailable(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return "the database's disk is full; retry later", true
		case strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57"), strings.HasPrefix(pe.Code, "08"):
			// insufficient resources, operator intervention, connection
			return "the database is unavailable; retry later", true
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03": // serialization, deadlock, lock timeout
			return "the database is busy; retry later", true
		case pe.Code == "25006": // read_only_sql_transaction: a standby after failover
			return "the database cannot be written now; retry later", true
		}
		return "", false
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return "the database is unavailable; retry later", true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "the database is unavailable; retry later", true
	}
	return "", false
}

// pgConnector hands out pgConns.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return pgConn{conn.(*stdlib.Conn)}, nil
}

// pgConn is pgx's database/sql connection with the one rewrite the store
// needs: bools bind as 0 and 1 (the schema keeps flags in integers on both
// engines, and SQLite's driver binds them so). The SQL itself is the same
// text on both engines.
type pgConn struct{ *stdlib.Conn }

// database/sql finds a connection's optional interfaces by type assertion:
// the embedded connection's must show through the wrapper.
var (
	_ driver.QueryerContext     = pgConn{}
	_ driver.ExecerContext      = pgConn{}
	_ driver.ConnPrepareContext = pgConn{}
	_ driver.NamedValueChecker  = pgConn{}
	_ driver.SessionResetter    = pgConn{}
	_ driver.ConnBeginTx        = pgConn{}
	_ driver.Pinger             = pgConn{}
)

func (c pgConn) CheckNamedValue(v *driver.NamedValue) error {
	if b, ok := v.Value.(bool); ok {
		v.Value = int64(0)
		if b {
			v.Value = int64(1)
		}
	}
	return nil
}
