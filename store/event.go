package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

var (
	_ hub.EventService = (*DB)(nil)
	_ hub.EventQueue   = (*DB)(nil)
)

// CreateEvent stores a posted event. The customer must exist: an event
// cannot create one, as a report can.
func (db *DB) CreateEvent(ctx context.Context, e *hub.Event) error {
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, e.CustomerID).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.EINVALID, "customer %s is unknown: a node must report before it posts events", e.CustomerID)
		} else if err != nil {
			return fmt.Errorf("check customer: %w", err)
		}
		_, err = insertEvent(ctx, tx, e, now)
		return err
	})
	if err != nil {
		return err
	}
	db.eventsStored()
	return nil
}

// CreateHubEvents stores hub events, skipping those whose dedupe key exists.
func (db *DB) CreateHubEvents(ctx context.Context, events []*hub.Event) ([]*hub.Event, error) {
	var stored []*hub.Event
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		stored = stored[:0]
		for _, e := range events {
			ok, err := insertEvent(ctx, tx, e, now)
			if err != nil {
				return err
			}
			if ok {
				stored = append(stored, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(stored) > 0 {
		db.eventsStored()
	}
	return stored, nil
}

// insertEvent stores e, undispatched, and sets its ID and times. It returns
// false, storing nothing, when an event with e's dedupe key exists. Callers
// call db.eventsStored after the commit.
func insertEvent(ctx context.Context, tx *sql.Tx, e *hub.Event, now time.Time) (bool, error) {
	e.ReceivedAt = now
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	var details, dedupe sql.NullString
	if len(e.Details) > 0 {
		details = sql.NullString{String: string(e.Details), Valid: true}
	}
	if e.DedupeKey != "" {
		dedupe = sql.NullString{String: e.DedupeKey, Valid: true}
	}
	problems := e.Problems.Encode()
	err := tx.QueryRowContext(ctx, `INSERT INTO events (
			customer_id, event_type, severity, source, message, details,
			occurred_at, received_at, dedupe_key, problems, subject_id
		) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING id`,
		nullString(e.CustomerID), e.Type, e.Severity, e.Source, e.Message, details,
		millis(e.OccurredAt), millis(now), dedupe, problems, nullString(e.SubjectID),
	).Scan(&e.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("insert event: %w", err)
	}
	return true, nil
}

// eventsStored tells the dispatcher that new events wait in the queue.
func (db *DB) eventsStored() {
	if fn := db.eventsHook.Load(); fn != nil {
		(*fn)()
	}
}

// SetEventsStored sets the function called after every commit that stored
// events, to wake the dispatcher; nil removes it. Safe at any time.
func (db *DB) SetEventsStored(fn func()) {
	if fn == nil {
		db.eventsHook.Store(nil)
		return
	}
	db.eventsHook.Store(&fn)
}

// eventColumns are the events columns scanned by scanEvent, in order.
// A fleet event (no customer) has customer_id NULL, read as "".
const eventColumns = `id, COALESCE(customer_id, ''), event_type, severity, source, message, details,
	occurred_at, received_at, COALESCE(dedupe_key, ''), problems, COALESCE(subject_id, '')`

func scanEvent(row rowScanner) (*hub.Event, error) {
	var (
		e                  hub.Event
		details            sql.NullString
		occurred, received int64
		problems           string
	)
	if err := row.Scan(&e.ID, &e.CustomerID, &e.Type, &e.Severity, &e.Source, &e.Message,
		&details, &occurred, &received, &e.DedupeKey, &problems, &e.SubjectID); err != nil {
		return nil, err
	}
	e.Problems = hub.ParseFieldProblems(problems)
	if details.Valid {
		e.Details = []byte(details.String)
	}
	e.OccurredAt, e.ReceivedAt = fromMillis(occurred), fromMillis(received)
	return &e, nil
}

// queryEvents runs an events query and scans every row.
func (db *DB) queryEvents(ctx context.Context, query string, args ...any) ([]*hub.Event, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	out := []*hub.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FindEvents returns a customer's events (the fleet's, without one),
// newest first.
func (db *DB) FindEvents(ctx context.Context, f hub.EventFilter) ([]*hub.Event, error) {
	where := []string{"1 = 1"}
	args := []any{}
	if f.CustomerID != "" {
		args = append(args, f.CustomerID)
		where = append(where, "customer_id = "+placeholder(len(args)))
	}
	if len(f.Types) > 0 {
		where = append(where, "event_type IN ("+placeholders(len(args)+1, len(f.Types))+")")
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	if !f.Since.IsZero() {
		args = append(args, millis(f.Since))
		where = append(where, "occurred_at >= "+placeholder(len(args)))
	}
	if len(f.Severities) > 0 {
		where = append(where, "severity IN ("+placeholders(len(args)+1, len(f.Severities))+")")
		for _, s := range f.Severities {
			args = append(args, s)
		}
	}
	limit := f.Limit
	if limit <= 0 || limit > hub.MaxEventLimit {
		limit = hub.MaxEventLimit
	}
	args = append(args, limit)
	return db.queryEvents(ctx, `SELECT `+eventColumns+` FROM events
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY occurred_at DESC, id DESC LIMIT `+placeholder(len(args)), args...)
}

// CountRecentEvents counts errors and warnings per customer: from the fleet
// view when it reaches back to since, else in one query.
func (db *DB) CountRecentEvents(ctx context.Context, since time.Time) (map[string]hub.EventCounts, error) {
	if fl, err := db.ListFleet(ctx); err == nil && fl.CanCount(since) {
		out := map[string]hub.EventCounts{}
		for _, row := range fl.Rows {
			if c := row.EventCounts(since); c != (hub.EventCounts{}) {
				out[row.Customer.ID] = c
			}
		}
		return out, nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT customer_id,
			SUM(CASE WHEN severity = 'error' THEN 1 ELSE 0 END),
			SUM(CASE WHEN severity = 'warning' THEN 1 ELSE 0 END)
		FROM events
		WHERE received_at >= $1 AND severity IN ('error', 'warning') AND customer_id IS NOT NULL
		GROUP BY customer_id`, millis(since))
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	defer rows.Close()
	out := map[string]hub.EventCounts{}
	for rows.Next() {
		var id string
		var c hub.EventCounts
		if err := rows.Scan(&id, &c.Errors, &c.Warnings); err != nil {
			return nil, fmt.Errorf("scan event counts: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// FindUndispatchedEvents returns the oldest undispatched events.
func (db *DB) FindUndispatchedEvents(ctx context.Context, limit int) ([]*hub.Event, error) {
	return db.queryEvents(ctx, `SELECT `+eventColumns+` FROM events
		WHERE dispatched_at IS NULL ORDER BY id LIMIT $1`, limit)
}

// MarkEventDispatched takes an event off the dispatch queue. Marking an event
// twice is not an error.
func (db *DB) MarkEventDispatched(ctx context.Context, id int64) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx,
			`UPDATE events SET dispatched_at = $1 WHERE id = $2 AND dispatched_at IS NULL`,
			millis(now), id); err != nil {
			return fmt.Errorf("mark event dispatched: %w", err)
		}
		return nil
	})
}
