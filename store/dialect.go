package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// The store's SQL is written once, in the subset SQLite and PostgreSQL
// share: numbered `$n` placeholders (SQLite reads `$1` as a parameter
// named "$1", which its Go driver binds to the first argument; a number
// may appear more than once), integers for booleans and unix-millisecond
// times, CASE rather than two-argument MAX, upserts with ON CONFLICT and
// RETURNING. What cannot be shared is here: how each engine opens, migrates
// and locks, and which failures are "retry later".

// dialect is what differs between the two engines the store runs on.
type dialect interface {
	name() string
	// open connects the writer and reader pools.
	open(ctx context.Context, db *DB) (write, read *sql.DB, err error)
	// reportWriters is how many group-commit writers run at once.
	reportWriters() int
	// migrations is the directory of the engine's numbered migrations.
	migrations() string
	// migrationLock serializes migrations between processes that start
	// together; the returned func releases it.
	migrationLock(ctx context.Context, conn *sql.Conn) (func(), error)
	// lockReportIDs is taken, shared, by every transaction that inserts
	// reports; lockReportIDsExclusive waits for all of them to end. With it
	// a watermark walk in id order (rollups, compaction) never passes an
	// id that commits later: one writer makes that true of SQLite, several
	// PostgreSQL replicas need the lock.
	lockReportIDs(ctx context.Context, tx *sql.Tx) error
	lockReportIDsExclusive(ctx context.Context, tx *sql.Tx) error
	// lockCustomer serializes, until the transaction ends, the
	// transactions that read and then write a customer's notification
	// state (cooldowns): two replicas must not both decide a mail is due.
	lockCustomer(ctx context.Context, tx *sql.Tx, customerID string) error
	// forUpdate ends a SELECT that reads rows of the table aliased alias
	// before writing them: it locks them until the transaction ends.
	forUpdate(alias string) string
	// unavailable reports whether err is a failure that passes by itself
	// (a full disk, a lock, a lost connection) and the message to give.
	unavailable(err error) (string, bool)
}

// sqliteDialect is the embedded default: one writer connection, so most
// locks are implied.
type sqliteDialect struct{}

func (sqliteDialect) name() string       { return "sqlite" }
func (sqliteDialect) migrations() string { return "migrations/sqlite" }

// SQLite has one writer: more would only queue for its lock.
func (sqliteDialect) reportWriters() int { return 1 }

func (sqliteDialect) open(ctx context.Context, db *DB) (*sql.DB, *sql.DB, error) {
	if db.Path == "" {
		return nil, nil, errors.New("store: database path required")
	}
	write, err := sql.Open("sqlite", dsn(db.Path, false, db.BusyTimeout))
	if err != nil {
		return nil, nil, fmt.Errorf("open writer: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("open %s: %w", db.Path, err)
	}
	read, err := sql.Open("sqlite", dsn(db.Path, true, db.BusyTimeout))
	if err != nil {
		write.Close()
		return nil, nil, fmt.Errorf("open readers: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	return write, read, nil
}

// The writer connection is the lock: nothing to take.
func (sqliteDialect) migrationLock(context.Context, *sql.Conn) (func(), error) { return func() {}, nil }
func (sqliteDialect) lockReportIDs(context.Context, *sql.Tx) error             { return nil }
func (sqliteDialect) lockReportIDsExclusive(context.Context, *sql.Tx) error    { return nil }
func (sqliteDialect) lockCustomer(context.Context, *sql.Tx, string) error      { return nil }

func (sqliteDialect) forUpdate(string) string { return "" }

func (sqliteDialect) unavailable(err error) (string, bool) { return sqliteUnavailable(err) }

// Advisory lock keys of the hub in PostgreSQL (any fixed 64-bit numbers;
// these spell "felhom" and a purpose).
const (
	lockKeyMigrate   int64 = 0x66656c686f6d_01
	lockKeyReportIDs int64 = 0x66656c686f6d_02
	// Customer locks use the two-key form: this class and a hash.
	lockClassCustomer int32 = 0x6668_0003
)

// placeholder is the n-th parameter of a statement, as both engines
// number it: $n.
func placeholder(n int) string {
	return "$" + strconv.Itoa(n)
}

// placeholders lists count parameters numbered from first, for a query
// built at run time: placeholders(3, 2) is "$3, $4".
func placeholders(first, count int) string {
	var b strings.Builder
	for n := first; n < first+count; n++ {
		if n > first {
			b.WriteString(", ")
		}
		b.WriteString(placeholder(n))
	}
	return b.String()
}
