package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hub "github.com/felhom/hub"
)

// The fleet view keeps the fleet listing (hub.Fleet) in memory so that the
// fleet page and GET /api/v1/customers do not read and decode every
// customer and count the day's events on each request.
//
// It follows the database, not the writes it is told of, so that several
// replicas (or a CLI command beside a serving hub) stay right: every change
// to what a row shows bumps customers.view_rev and stamps changed_at in the
// same transaction (touchCustomer, createReport). A refresh reads, with two
// indexed range reads, the customers changed and the error and warning
// events received since its previous refresh (less fleetLookback, so that a
// transaction that committed late is still seen), re-reads only the
// customers whose revision moved, and compares the number of customers to
// find deletions. A read refreshes first when this process has committed a
// write since the last refresh (its own writes show at once) or when the
// last refresh is older than fleetFollow (other replicas' within that);
// every fleetReconcile it compares every revision, in case a change
// escaped the range reads.
const (
	fleetFollow    = 2 * time.Second
	fleetLookback  = 10 * time.Second
	fleetReconcile = time.Minute
	// fleetEventWindow is how far back the view keeps events: the
	// listings count the last 24 h.
	fleetEventWindow = 25 * time.Hour
	// fleetFetchChunk bounds the ids re-read in one query.
	fleetFetchChunk = 500
)

// fleetView is a DB's fleet listing; the zero value is empty.
type fleetView struct {
	// dirty is set after every commit of this process.
	dirty atomic.Bool
	// current is the latest listing; readers share it.
	current atomic.Pointer[hub.Fleet]

	mu sync.Mutex // one refresh at a time; guards the fields below
	// rev is the revision each row was read at; index its place in rows.
	rev      map[string]int64
	index    map[string]int
	orphans  map[string][]hub.EventMark // events of customers not read yet
	lastPoll time.Time                  // the clock when the last refresh began
	lastFull time.Time                  // ... and the last full comparison
	// lastCheck is the wall clock (unix ns) of the last refresh.
	lastCheck atomic.Int64
	// wall is the clock of fleetFollow; nil is time.Now. Not db.Now: a
	// test's clock stands still while another replica writes.
	wall func() time.Time
}

func (v *fleetView) wallNow() time.Time {
	if v.wall != nil {
		return v.wall()
	}
	return time.Now()
}

// ListFleet returns the fleet listing, refreshed first when this process
// wrote since the last refresh or the last refresh is older than
// fleetFollow. The listing is shared: callers must not change it.
func (db *DB) ListFleet(ctx context.Context) (*hub.Fleet, error) {
	v := &db.fleet
	if f := v.current.Load(); f != nil && !v.dirty.Load() && !v.due() {
		return f, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	// Another reader may have refreshed while this one waited.
	if f := v.current.Load(); f != nil && !v.dirty.Load() && !v.due() {
		return f, nil
	}
	if err := db.refreshFleet(ctx); err != nil {
		v.dirty.Store(true) // the next read tries again
		return nil, db.classify(err)
	}
	return v.current.Load(), nil
}

// due reports whether the last refresh is older than fleetFollow.
func (v *fleetView) due() bool {
	return v.wallNow().Sub(time.Unix(0, v.lastCheck.Load())) >= fleetFollow
}

// fleetChanged marks the view stale after a commit.
func (db *DB) fleetChanged() { db.fleet.dirty.Store(true) }

// refreshFleet brings the listing up to date; v.mu is held.
func (db *DB) refreshFleet(ctx context.Context) error {
	v := &db.fleet
	v.dirty.Store(false) // a commit from now on makes the next read refresh again
	now := db.Now().UTC()
	f := v.current.Load()
	if f == nil || now.Before(v.lastPoll) {
		// First read, or the clock went back: read everything.
		return db.loadFleet(ctx, now)
	}
	since := millis(v.lastPoll.Add(-fleetLookback))
	events, err := db.fleetEvents(ctx, since)
	if err != nil {
		return err
	}
	var stale []string
	if now.Sub(v.lastFull) >= fleetReconcile {
		stale, err = db.fleetRevisions(ctx, true, `SELECT id, view_rev FROM customers`)
		v.lastFull = now
	} else {
		stale, err = db.fleetRevisions(ctx, false, `SELECT id, view_rev FROM customers WHERE changed_at >= $1`, since)
	}
	if err != nil {
		return err
	}
	rows, err := db.fetchFleetRows(ctx, stale)
	if err != nil {
		return err
	}
	next := v.apply(f, rows, stale, events, now)
	var count int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&count); err != nil {
		return fmt.Errorf("fleet view: count customers: %w", err)
	}
	if count != len(next.Rows) {
		// A customer went (or came without a change we saw): compare every
		// revision now.
		if stale, err = db.fleetRevisions(ctx, true, `SELECT id, view_rev FROM customers`); err != nil {
			return err
		}
		if rows, err = db.fetchFleetRows(ctx, stale); err != nil {
			return err
		}
		next = v.apply(next, rows, stale, nil, now)
		v.lastFull = now
	}
	v.current.Store(next)
	v.lastPoll = now
	v.lastCheck.Store(v.wallNow().UnixNano())
	return nil
}

// loadFleet reads the whole listing; v.mu is held.
func (db *DB) loadFleet(ctx context.Context, now time.Time) error {
	v := &db.fleet
	start := now.Add(-fleetEventWindow)
	events, err := db.fleetEvents(ctx, millis(start))
	if err != nil {
		return err
	}
	rows, err := db.queryFleetRows(ctx, customerFrom)
	if err != nil {
		return err
	}
	v.rev, v.index, v.orphans = map[string]int64{}, map[string]int{}, map[string][]hub.EventMark{}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.row.Customer.ID)
	}
	next := v.apply(&hub.Fleet{EventsSince: start}, rows, ids, events, now)
	v.current.Store(next)
	v.lastPoll, v.lastFull = now, now
	v.lastCheck.Store(v.wallNow().UnixNano())
	return nil
}

// fleetRow is a row as read, with its revision.
type fleetRow struct {
	row *hub.FleetRow
	rev int64
}

// revScanner scans the revision before a customer's columns.
type revScanner struct {
	rowScanner
	rev *int64
}

func (s revScanner) Scan(dest ...any) error {
	return s.rowScanner.Scan(append([]any{s.rev}, dest...)...)
}

// queryFleetRows reads customers with their revisions; from is
// customerFrom with any condition.
func (db *DB) queryFleetRows(ctx context.Context, from string, args ...any) ([]fleetRow, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT c.view_rev, `+customerColumns+from, args...)
	if err != nil {
		return nil, fmt.Errorf("fleet view: read customers: %w", err)
	}
	defer rows.Close()
	var out []fleetRow
	for rows.Next() {
		var r fleetRow
		c, err := scanCustomer(revScanner{rows, &r.rev})
		if err != nil {
			return nil, fmt.Errorf("fleet view: scan customer: %w", err)
		}
		r.row = &hub.FleetRow{Customer: c}
		if r.row.JSON, err = json.Marshal(c); err != nil {
			r.row.JSON = nil // the API answers an error for it, as it would have
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// fetchFleetRows re-reads the customers ids names.
func (db *DB) fetchFleetRows(ctx context.Context, ids []string) ([]fleetRow, error) {
	var out []fleetRow
	for chunk := range slices.Chunk(ids, fleetFetchChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.queryFleetRows(ctx, customerFrom+` WHERE c.id IN (`+placeholders(1, len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// fleetRevisions runs query (id, view_rev) and returns the ids whose
// revision differs from the view's, and those the view does not have; when
// the query reads every customer (full), also those the database has no
// more.
func (db *DB) fleetRevisions(ctx context.Context, full bool, query string, args ...any) ([]string, error) {
	v := &db.fleet
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("fleet view: read revisions: %w", err)
	}
	defer rows.Close()
	var stale []string
	seen := map[string]bool{}
	for rows.Next() {
		var id string
		var rev int64
		if err := rows.Scan(&id, &rev); err != nil {
			return nil, fmt.Errorf("fleet view: scan revision: %w", err)
		}
		if full {
			seen[id] = true
		}
		if have, ok := v.rev[id]; !ok || have != rev {
			stale = append(stale, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if full {
		// Rows the database no longer has: asked for, not found, dropped.
		for id := range v.rev {
			if !seen[id] {
				stale = append(stale, id)
			}
		}
	}
	return stale, nil
}

// fleetEvents reads the error and warning events received since (unix ms).
func (db *DB) fleetEvents(ctx context.Context, since int64) (map[string][]hub.EventMark, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, customer_id, severity, received_at FROM events
		WHERE received_at >= $1 AND severity IN ('error', 'warning') ORDER BY id`, since)
	if err != nil {
		return nil, fmt.Errorf("fleet view: read events: %w", err)
	}
	defer rows.Close()
	out := map[string][]hub.EventMark{}
	for rows.Next() {
		var e hub.EventMark
		var id string
		var received int64
		if err := rows.Scan(&e.ID, &id, &e.Severity, &received); err != nil {
			return nil, fmt.Errorf("fleet view: scan event: %w", err)
		}
		e.ReceivedAt = fromMillis(received)
		out[id] = append(out[id], e)
	}
	return out, rows.Err()
}

// apply returns the listing f with the rows read (for the ids asked: an id
// asked for and not read is gone) and the events found; v.mu is held. f is
// not changed: readers may hold it.
func (v *fleetView) apply(f *hub.Fleet, read []fleetRow, asked []string, events map[string][]hub.EventMark, now time.Time) *hub.Fleet {
	if len(asked) == 0 && len(events) == 0 {
		return f
	}
	rows := slices.Clone(f.Rows)
	changed := map[string]*hub.FleetRow{}
	for _, id := range asked {
		changed[id] = nil // gone unless read
	}
	for _, r := range read {
		id := r.row.Customer.ID
		if i, ok := v.index[id]; ok {
			r.row.Events = rows[i].Events
		}
		r.row.Events = append(r.row.Events, v.orphans[id]...)
		delete(v.orphans, id)
		changed[id] = r.row
		v.rev[id] = r.rev
	}
	keep := now.Add(-fleetEventWindow)
	for id, marks := range events {
		row := changed[id]
		if row == nil {
			if i, ok := v.index[id]; ok {
				row = rows[i]
			} else if _, asked := changed[id]; asked {
				continue // its customer is gone
			}
		}
		if row == nil {
			v.orphans[id], _ = addMarks(v.orphans[id], marks, keep)
			continue
		}
		if merged, ok := addMarks(row.Events, marks, keep); ok {
			cp := *row
			cp.Events = merged
			changed[id] = &cp
		}
	}
	added := false
	for id, row := range changed {
		i, ok := v.index[id]
		switch {
		case ok && row != nil:
			rows[i] = row
		case row != nil:
			rows = append(rows, row)
			added = true
		case ok: // gone
			rows[i] = nil
			delete(v.rev, id)
			added = true
		}
	}
	if added {
		rows = slices.DeleteFunc(rows, func(r *hub.FleetRow) bool { return r == nil })
		slices.SortFunc(rows, func(a, b *hub.FleetRow) int { return strings.Compare(a.Customer.ID, b.Customer.ID) })
		clear(v.index)
		for i, r := range rows {
			v.index[r.Customer.ID] = i
		}
	}
	return &hub.Fleet{Rows: rows, EventsSince: f.EventsSince}
}

// addMarks returns have with the marks it lacks added, less those received
// before keep, in a new slice and true; have and false when it lacks none.
func addMarks(have, marks []hub.EventMark, keep time.Time) ([]hub.EventMark, bool) {
	var out []hub.EventMark
	for _, m := range marks {
		if m.ReceivedAt.Before(keep) || slices.ContainsFunc(have, func(h hub.EventMark) bool { return h.ID == m.ID }) {
			continue
		}
		if out == nil {
			out = slices.DeleteFunc(slices.Clone(have), func(h hub.EventMark) bool { return h.ReceivedAt.Before(keep) })
		}
		out = append(out, m)
	}
	if out == nil {
		return have, false
	}
	return out, true
}
