// Package store implements the hub's services on SQLite (the embedded
// default) and on PostgreSQL (for several replicas); dialect.go says what
// differs between the two.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	hub "github.com/felhom/hub"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is the hub's database: one writer connection and a pool of readers,
// over one SQLite file in WAL mode or one PostgreSQL database.
type DB struct {
	// Path is the SQLite file; empty for PostgreSQL.
	Path string
	// Now is the clock; every transaction reads it once.
	Now func() time.Time
	// BusyTimeout is how long a write waits for a lock held by another
	// process before it fails with EUNAVAILABLE.
	BusyTimeout time.Duration
	// Thresholds are the hub's staleness thresholds for nodes (a customer's
	// config may override them) and HostThresholds those for hosts: a report
	// sets the next deadline from them.
	Thresholds     hub.Thresholds
	HostThresholds hub.Thresholds
	// eventsHook is called after every commit that stored events
	// (SetEventsStored); atomic because the dispatcher that sets it may
	// start after requests are served.
	eventsHook atomic.Pointer[func()]
	// NotificationsQueued, when set, is called after every commit that
	// queued mails in the outbox, to wake the sender. It must not block.
	NotificationsQueued func()
	// Tiers say how long each tier of report history is kept.
	Tiers hub.HistoryTiers

	dialect dialect
	write   *sql.DB
	read    *sql.DB
	sealer  *Sealer
	// incrementalVacuum is true when the file can shrink (tiers.go).
	incrementalVacuum bool

	// The group-commit report writer (batch.go).
	reportQueue chan *pendingReport
	writerDone  chan struct{}
	queueMu     sync.RWMutex
	queueClosed bool

	// fleet is the fleet listing (fleetview.go).
	fleet fleetView

	// The compactor's codec (compact.go), one compaction at a time.
	compactMu sync.Mutex
	codec     deltaCodec
}

// NewDB returns a DB for the SQLite file at path; call Open before use.
func NewDB(path string) *DB {
	db := newDB(sqliteDialect{})
	db.Path = path
	return db
}

// NewPostgresDB returns a DB for the PostgreSQL database dsn names (a
// libpq keyword string or a postgres:// URL); call Open before use.
func NewPostgresDB(dsn string) *DB {
	return newDB(postgresDialect{dsn: dsn})
}

func newDB(d dialect) *DB {
	return &DB{
		dialect:        d,
		Now:            time.Now,
		BusyTimeout:    5 * time.Second,
		Thresholds:     hub.DefaultThresholds,
		HostThresholds: hub.DefaultThresholds,
		Tiers:          hub.DefaultHistoryTiers,
		sealer:         &Sealer{},
	}
}

// SetSecretsKey makes the DB seal secrets at rest with a 32-byte AES key.
// It must be called before Open.
func (db *DB) SetSecretsKey(key []byte) error {
	s, err := NewSealer(key)
	if err != nil {
		return err
	}
	db.sealer = s
	return nil
}

// dsn builds the connection string; pragmas live here so that every pooled
// connection gets them.
func dsn(path string, readOnly bool, busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "journal_mode(WAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Must be set before the first table is created to take effect.
		q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open connects (creating the SQLite file if needed) and migrates the
// schema.
func (db *DB) Open(ctx context.Context) error {
	if db.Path != "" {
		if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
	}
	write, read, err := db.dialect.open(ctx, db)
	if err != nil {
		return err
	}
	db.write, db.read = write, read
	fail := func(err error) error {
		db.read.Close()
		db.write.Close()
		return err
	}
	if err := migrate(ctx, db.write, db.dialect); err != nil {
		return fail(err)
	}
	if _, ok := db.dialect.(sqliteDialect); ok {
		if err := db.readAutoVacuum(ctx); err != nil {
			return fail(err)
		}
	}
	db.startReportWriter()
	return nil
}

// Driver names the engine: "sqlite" or "postgres".
func (db *DB) Driver() string { return db.dialect.name() }

// Close closes both pools.
func (db *DB) Close() error {
	db.stopReportWriter()
	db.compactMu.Lock()
	db.codec.close()
	db.compactMu.Unlock()
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return hub.Errorf(hub.EUNAVAILABLE, "database does not answer")
	}
	return nil
}

// Backup writes a consistent copy of the database file at dbPath to dest,
// which must not exist. It is safe while a hub is serving from dbPath and
// never migrates or otherwise writes to the live database.
func Backup(ctx context.Context, dbPath, dest string) error {
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	}
	conn, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// inWriteTx runs fn in a write transaction with the clock read once.
func (db *DB) inWriteTx(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.classify(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	if err := fn(tx, db.Now().UTC()); err != nil {
		return db.classify(err)
	}
	err = tx.Commit()
	db.fleetChanged() // even after a failed commit: it may have landed
	if err != nil {
		return db.classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// classify turns the failures that pass by themselves — a full disk, a
// lock held past the timeout, an I/O error, a lost connection — into
// EUNAVAILABLE, so that clients get 503 with Retry-After rather than 500.
func (db *DB) classify(err error) error {
	if err == nil {
		return nil
	}
	if msg, ok := db.dialect.unavailable(err); ok {
		return hub.Unavailable(err, "%s", msg)
	}
	return err
}

// sqliteUnavailable recognizes SQLite's passing failures.
func sqliteUnavailable(err error) (string, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return "the hub's disk is full; retry later", true
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return "the database is busy; retry later", true
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
		return "the database cannot be written now; retry later", true
	}
	return "", false
}

// millis converts a time to the unix milliseconds stored in the database.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts stored unix milliseconds to a UTC time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMillis stores an optional time.
func nullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// timePtr reads an optional time.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMillis(v.Int64)
	return &t
}
