package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	hub "github.com/felhom/hub"
)

// Reports arrive from many connections at once. Rather than one write
// transaction each, a single goroutine takes whatever reports are waiting
// (up to maxReportBatch) and stores them in one transaction: group commit.
// Each report has its own savepoint, so a report that fails is rolled back
// alone and only its caller sees the error.
const maxReportBatch = 64

// pendingReport is a report waiting for the writer.
type pendingReport struct {
	ctx    context.Context
	report *hub.Report
	res    hub.ReportResult
	err    error
	done   chan struct{}
}

// errClosed is returned for writes after Close.
var errClosed = hub.Errorf(hub.EUNAVAILABLE, "the hub is shutting down")

// startReportWriter starts the group-commit goroutines: one for SQLite,
// a few for PostgreSQL.
func (db *DB) startReportWriter() {
	db.reportQueue = make(chan *pendingReport, maxReportBatch*4)
	db.writerDone = make(chan struct{})
	var wg sync.WaitGroup
	for range db.dialect.reportWriters() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db.reportWriter()
		}()
	}
	go func() {
		wg.Wait()
		close(db.writerDone)
	}()
}

// stopReportWriter drains the queue and stops the writer.
func (db *DB) stopReportWriter() {
	if db.reportQueue == nil {
		return
	}
	db.queueMu.Lock()
	if !db.queueClosed {
		close(db.reportQueue)
		db.queueClosed = true
	}
	db.queueMu.Unlock()
	<-db.writerDone
}

// enqueueReport hands a report to the writer and waits for its result.
func (db *DB) enqueueReport(ctx context.Context, r *hub.Report) (*hub.ReportResult, error) {
	p := &pendingReport{ctx: ctx, report: r, done: make(chan struct{})}
	db.queueMu.RLock()
	if db.queueClosed {
		db.queueMu.RUnlock()
		return nil, errClosed
	}
	select {
	case db.reportQueue <- p:
		db.queueMu.RUnlock()
	case <-ctx.Done():
		db.queueMu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued the report is written even if ctx ends, so wait for the
	// outcome: a caller must never be told "failed" for a stored report.
	<-p.done
	if p.err != nil {
		return nil, p.err
	}
	return &p.res, nil
}

func (db *DB) reportWriter() {
	batch := make([]*pendingReport, 0, maxReportBatch)
	for first := range db.reportQueue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxReportBatch {
			select {
			case p, ok := <-db.reportQueue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		db.writeReportBatch(batch)
		for _, p := range batch {
			close(p.done)
		}
	}
}

// writeReportBatch stores a batch in one transaction, one savepoint each.
// Reports are written in customer order (a customer's own in the order
// they came): replicas' batches then lock customer rows in one order and
// cannot deadlock on each other.
func (db *DB) writeReportBatch(batch []*pendingReport) {
	slices.SortStableFunc(batch, func(a, b *pendingReport) int {
		return strings.Compare(a.report.CustomerID, b.report.CustomerID)
	})
	// The batch must not die with one caller's context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eventsStored := false
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := db.dialect.lockReportIDs(ctx, tx); err != nil {
			return err
		}
		for _, p := range batch {
			if err := p.ctx.Err(); err != nil {
				p.err = err // the caller gave up before the write began
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT report`); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			var recovered *hub.Event
			p.res, recovered, p.err = createReport(ctx, tx, db.dialect, p.report, now, db.Thresholds)
			if recovered != nil {
				eventsStored = true
			}
			if p.err != nil {
				p.err = db.classify(p.err)
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO report`); err != nil {
					// Some failures (a full disk, an I/O error) make SQLite
					// roll back the whole transaction: the batch failed
					// for that report's reason.
					return p.err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE report`); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		// Nothing of the batch was committed.
		for _, p := range batch {
			p.res, p.err = hub.ReportResult{}, err
		}
		return
	}
	if eventsStored {
		db.eventsStored()
	}
}
