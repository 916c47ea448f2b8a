// Package store is the SQLite implementation of the hub's services.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hub "github.com/felhom/hub"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is the hub's database: one writer connection and a pool of readers
// over the same SQLite file in WAL mode.
type DB struct {
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

	write  *sql.DB
	read   *sql.DB
	sealer *Sealer
	// incrementalVacuum is true when the file can shrink (tiers.go).
	incrementalVacuum bool

	// The group-commit report writer (batch.go).
	reportQueue chan *pendingReport
	writerDone  chan struct{}
	queueMu     sync.RWMutex
	queueClosed bool

	// The compactor's codec (compact.go), one compaction at a time.
	compactMu sync.Mutex
	codec     deltaCodec
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{
		Path:           path,
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

// Open creates the file if needed, connects and migrates the schema.
func (db *DB) Open(ctx context.Context) error {
	if db.Path == "" {
		return errors.New("store: database path required")
	}
	if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var err error
	if db.write, err = sql.Open("sqlite", dsn(db.Path, false, db.BusyTimeout)); err != nil {
		return fmt.Errorf("open writer: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	if err := migrate(ctx, db.write); err != nil {
		db.write.Close()
		return err
	}
	if err := db.readAutoVacuum(ctx); err != nil {
		db.write.Close()
		return err
	}
	if db.read, err = sql.Open("sqlite", dsn(db.Path, true, db.BusyTimeout)); err != nil {
		db.write.Close()
		return fmt.Errorf("open readers: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(readers)
	db.read.SetMaxIdleConns(readers)
	db.startReportWriter()
	return nil
}

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
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// inWriteTx runs fn in a write transaction with the clock read once.
func (db *DB) inWriteTx(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	if err := fn(tx, db.Now().UTC()); err != nil {
		return classify(err)
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// classify turns the SQLite failures that pass by themselves — a full disk,
// a database locked past busy_timeout, an I/O error — into EUNAVAILABLE, so
// that clients get 503 with Retry-After rather than 500.
func classify(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return hub.Unavailable(err, "the hub's disk is full; retry later")
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return hub.Unavailable(err, "the database is busy; retry later")
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
		return hub.Unavailable(err, "the database cannot be written now; retry later")
	}
	return err
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
