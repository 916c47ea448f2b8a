package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.RateLimitService = (*DB)(nil)

// addRateLimitEvent counts one event against a key in one statement, so
// that concurrent writers, on any replica, cannot lose a count:
// tat = max(tat, now) + every, or now + every for a new key. Arguments:
// key, now + every, now, now, every (unix ms).
const addRateLimitEvent = `INSERT INTO rate_limits (key, tat) VALUES ($1, $2)
	ON CONFLICT (key) DO UPDATE SET tat = CASE WHEN rate_limits.tat > $3 THEN rate_limits.tat ELSE $4 END + $5`

// takeRateLimitEvent is addRateLimitEvent only when the key allows an event
// now, that is tat <= now + (burst-1)*every (the last argument); a key
// that does not changes no row. A new key always allows one.
const takeRateLimitEvent = addRateLimitEvent + `
	WHERE rate_limits.tat <= $6`

// errRateLimited rolls back a TakeRateLimitEvents that a limit refused.
var errRateLimited = errors.New("rate limited")

// RateLimitWait returns how long until every one of limits allows an event.
func (db *DB) RateLimitWait(ctx context.Context, limits ...hub.RateLimit) (time.Duration, error) {
	now := db.Now().UTC()
	var wait time.Duration
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return 0, err
		}
		var tat int64
		err := db.read.QueryRowContext(ctx, `SELECT tat FROM rate_limits WHERE key = $1`, l.Key).Scan(&tat)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return 0, db.classify(fmt.Errorf("read rate limit: %w", err))
		}
		wait = max(wait, l.Wait(fromMillis(tat), now))
	}
	return wait, nil
}

// AddRateLimitEvents counts one event against each of limits, in one
// transaction.
func (db *DB) AddRateLimitEvents(ctx context.Context, limits ...hub.RateLimit) error {
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return err
		}
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, l := range limits {
			at, every := millis(now), l.Every.Milliseconds()
			if _, err := tx.ExecContext(ctx, addRateLimitEvent, l.Key, at+every, at, at, every); err != nil {
				return fmt.Errorf("add rate limit event: %w", err)
			}
		}
		return nil
	})
}

// RefundRateLimitEvents gives back one event of each of limits. A tat
// moved into the past is harmless: the next event starts from now.
func (db *DB) RefundRateLimitEvents(ctx context.Context, limits ...hub.RateLimit) error {
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return err
		}
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		for _, l := range limits {
			if _, err := tx.ExecContext(ctx, `UPDATE rate_limits SET tat = tat - $1 WHERE key = $2`,
				l.Every.Milliseconds(), l.Key); err != nil {
				return fmt.Errorf("refund rate limit event: %w", err)
			}
		}
		return nil
	})
}

// TakeRateLimitEvents counts one event against each of limits when all of
// them allow it now; the transaction is rolled back when one refuses.
func (db *DB) TakeRateLimitEvents(ctx context.Context, limits ...hub.RateLimit) (bool, error) {
	for _, l := range limits {
		if err := l.Validate(); err != nil {
			return false, err
		}
	}
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, l := range limits {
			at, every := millis(now), l.Every.Milliseconds()
			res, err := tx.ExecContext(ctx, takeRateLimitEvent, l.Key, at+every, at, at, every, at+int64(l.Burst-1)*every)
			if err != nil {
				return fmt.Errorf("take rate limit event: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("take rate limit event: %w", err)
			}
			if n == 0 {
				return errRateLimited
			}
		}
		return nil
	})
	if errors.Is(err, errRateLimited) {
		return false, nil
	}
	return err == nil, err
}
