package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

var (
	_ hub.NotificationService = (*DB)(nil)
	_ hub.NotificationQueue   = (*DB)(nil)
)

// maxNotificationRows caps FindNotifications.
const maxNotificationRows = 1000

// SetNotificationPrefs stores a customer's preferences, replacing any.
func (db *DB) SetNotificationPrefs(ctx context.Context, p *hub.NotificationPrefs) error {
	events, err := json.Marshal(nonNil(p.EnabledEvents))
	if err != nil {
		return fmt.Errorf("encode enabled events: %w", err)
	}
	var cooldown sql.NullInt64
	if p.CooldownHours != nil {
		cooldown = sql.NullInt64{Int64: int64(*p.CooldownHours), Valid: true}
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, p.CustomerID).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.EINVALID, "customer %s is unknown: a node must report before it sets preferences", p.CustomerID)
		} else if err != nil {
			return fmt.Errorf("check customer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_notifications
				(customer_id, email, enabled_events, cooldown_hours, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email,
				enabled_events = excluded.enabled_events, cooldown_hours = excluded.cooldown_hours,
				updated_at = excluded.updated_at`,
			p.CustomerID, p.Email, string(events), cooldown, millis(now)); err != nil {
			return fmt.Errorf("store preferences: %w", err)
		}
		p.UpdatedAt = now
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FindNotificationPrefs returns a customer's preferences.
func (db *DB) FindNotificationPrefs(ctx context.Context, customerID string) (*hub.NotificationPrefs, error) {
	p, err := findPrefs(ctx, db.read, customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no notification preferences", customerID)
	}
	return p, err
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// findPrefs reads preferences; sql.ErrNoRows when there are none.
func findPrefs(ctx context.Context, q queryRower, customerID string) (*hub.NotificationPrefs, error) {
	var (
		p        = hub.NotificationPrefs{CustomerID: customerID}
		events   string
		cooldown sql.NullInt64
		updated  int64
	)
	err := q.QueryRowContext(ctx, `SELECT email, enabled_events, cooldown_hours, updated_at
		FROM customer_notifications WHERE customer_id = $1`, customerID).Scan(&p.Email, &events, &cooldown, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("find preferences: %w", err)
	}
	if err := json.Unmarshal([]byte(events), &p.EnabledEvents); err != nil {
		return nil, fmt.Errorf("decode enabled events of %s: %w", customerID, err)
	}
	if cooldown.Valid {
		h := int(cooldown.Int64)
		p.CooldownHours = &h
	}
	p.UpdatedAt = fromMillis(updated)
	return &p, nil
}

// EnqueueNotifications stores plan's decisions, mails and cooldowns, and
// takes the event off the dispatch queue, in one transaction: a crash
// leaves either all of it or none, so a notification is neither lost nor
// queued twice.
func (db *DB) EnqueueNotifications(ctx context.Context, customerID string, eventID int64, plan hub.NotificationPlanner) (bool, error) {
	var done bool
	var queued int
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		done, queued = false, 0
		if eventID != 0 {
			res, err := tx.ExecContext(ctx,
				`UPDATE events SET dispatched_at = $1 WHERE id = $2 AND dispatched_at IS NULL`, millis(now), eventID)
			if err != nil {
				return fmt.Errorf("mark event dispatched: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return nil // dispatched already, or pruned
			}
		}
		if err := db.dialect.lockCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		state, err := notificationState(ctx, tx, customerID, now)
		if err != nil {
			return err
		}
		subject, err := loadAlerting(ctx, tx, state, customerID, eventID)
		if err != nil {
			return err
		}
		if err := loadNoise(ctx, tx, state, customerID, eventID); err != nil {
			return err
		}
		planned, err := plan(state)
		if err != nil {
			return err
		}
		for _, p := range planned {
			if err := insertNotification(ctx, tx, customerID, eventID, p, now); err != nil {
				return err
			}
			if p.Email != nil {
				queued++
			}
		}
		if err := recordAlerting(ctx, tx, subject, planned); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, err
	}
	if queued > 0 && db.NotificationsQueued != nil {
		db.NotificationsQueued()
	}
	return done, nil
}

// notificationState reads what a notification decision needs.
func notificationState(ctx context.Context, tx *sql.Tx, customerID string, now time.Time) (*hub.NotificationState, error) {
	state := &hub.NotificationState{Now: now, LastSent: map[hub.CooldownKey]time.Time{}}
	c, err := scanCustomer(tx.QueryRowContext(ctx, customerSelect+` WHERE c.id = $1`, customerID))
	switch {
	case err == nil:
		state.Customer = c
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("find customer: %w", err)
	}
	state.Prefs, err = findPrefs(ctx, tx, customerID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT channel, cooldown_key, last_sent_at
		FROM notification_cooldowns WHERE customer_id = $1`, customerID)
	if err != nil {
		return nil, fmt.Errorf("find cooldowns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k hub.CooldownKey
		var at int64
		if err := rows.Scan(&k.Channel, &k.Key, &at); err != nil {
			return nil, fmt.Errorf("scan cooldown: %w", err)
		}
		state.LastSent[k] = fromMillis(at)
	}
	return state, rows.Err()
}

// insertNotification writes one decision: its log row and, when queued, its
// outbox row and cooldown.
func insertNotification(ctx context.Context, tx *sql.Tx, customerID string, eventID int64, p *hub.PlannedNotification, now time.Time) error {
	status := hub.NotificationSkipped
	subject := ""
	if p.Email != nil {
		status = hub.NotificationQueued
		subject = p.Email.Subject
	}
	var event sql.NullInt64
	if eventID != 0 {
		event = sql.NullInt64{Int64: eventID, Valid: true}
	}
	var silence sql.NullInt64
	if p.SilenceID != 0 {
		silence = sql.NullInt64{Int64: p.SilenceID, Valid: true}
	}
	var logID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO notification_log
			(created_at, updated_at, channel, customer_id, event_id, event_type, recipient, subject, status, reason, silence_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		millis(now), millis(now), p.Channel, customerID, event, p.EventType, p.Recipient, subject, status, p.Reason, silence,
	).Scan(&logID); err != nil {
		return fmt.Errorf("insert notification log: %w", err)
	}
	if p.Email == nil {
		return foldDigest(ctx, tx, customerID, p, now)
	}
	m := p.Email
	digest, err := heldDigest(p)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notification_outbox
			(log_id, idempotency_key, channel, customer_id, recipient, subject, text_body, html_body,
			 next_attempt_at, created_at, digest)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		logID, m.IdempotencyKey, p.Channel, customerID, m.To, m.Subject, m.Text, m.HTML, millis(now.Add(p.Hold)), millis(now), digest,
	); err != nil {
		return fmt.Errorf("insert outbox: %w", err)
	}
	return storeCooldown(ctx, tx, customerID, p, now)
}

// storeCooldown starts the cooldown p names, if any.
func storeCooldown(ctx context.Context, tx *sql.Tx, customerID string, p *hub.PlannedNotification, now time.Time) error {
	if p.Cooldown != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_cooldowns
				(channel, customer_id, cooldown_key, last_sent_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, channel, cooldown_key) DO UPDATE SET last_sent_at = excluded.last_sent_at`,
			p.Cooldown.Channel, customerID, p.Cooldown.Key, millis(now)); err != nil {
			return fmt.Errorf("store cooldown: %w", err)
		}
	}
	return nil
}

// ClaimOutbox leases up to limit due mails to owner. Each row is claimed
// with a compare-and-set on its lease, so two senders never hold one mail.
func (db *DB) ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration) ([]*hub.OutboxMessage, error) {
	var out []*hub.OutboxMessage
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT id FROM notification_outbox
			WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
			ORDER BY next_attempt_at, id LIMIT $2`, millis(now), limit)
		if err != nil {
			return fmt.Errorf("find due mails: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("scan due mail: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			var (
				m       hub.OutboxMessage
				created int64
			)
			err := tx.QueryRowContext(ctx, `UPDATE notification_outbox
				SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
				WHERE id = $3 AND state = 'pending' AND (lease_until IS NULL OR lease_until < $4)
				RETURNING id, log_id, channel, customer_id, idempotency_key, recipient, subject,
					text_body, html_body, attempts, created_at`,
				owner, millis(now.Add(lease)), id, millis(now),
			).Scan(&m.ID, &m.NotificationID, &m.Channel, &m.CustomerID, &m.IdempotencyKey, &m.To,
				&m.Subject, &m.Text, &m.HTML, &m.Attempts, &created)
			if errors.Is(err, sql.ErrNoRows) {
				continue // another sender was faster
			} else if err != nil {
				return fmt.Errorf("claim mail %d: %w", id, err)
			}
			m.CreatedAt = fromMillis(created)
			out = append(out, &m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CompleteOutbox deletes a delivered mail and marks its log row sent.
func (db *DB) CompleteOutbox(ctx context.Context, id int64, owner string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var logID int64
		var attempts int
		err := tx.QueryRowContext(ctx, `DELETE FROM notification_outbox
			WHERE id = $1 AND lease_owner = $2 AND state = 'pending' RETURNING log_id, attempts`,
			id, owner).Scan(&logID, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.ECONFLICT, "outbox mail %d is no longer leased to this sender", id)
		} else if err != nil {
			return fmt.Errorf("complete mail %d: %w", id, err)
		}
		return updateNotificationLog(ctx, tx, logID, hub.NotificationSent, "", attempts, now)
	})
}

// RetryOutbox releases a mail to be tried again at next.
func (db *DB) RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastError string) error {
	return db.releaseOutbox(ctx, id, owner, `UPDATE notification_outbox
		SET next_attempt_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL
		WHERE id = $3 AND lease_owner = $4 AND state = 'pending' RETURNING log_id, attempts`,
		[]any{millis(next), lastError, id, owner}, hub.NotificationQueued, lastError)
}

// FailOutbox gives up on a mail: it stays in the outbox as failed and its
// log row says failed with the error.
func (db *DB) FailOutbox(ctx context.Context, id int64, owner string, lastError string) error {
	return db.releaseOutbox(ctx, id, owner, `UPDATE notification_outbox
		SET state = 'failed', last_error = $1, lease_owner = NULL, lease_until = NULL
		WHERE id = $2 AND lease_owner = $3 AND state = 'pending' RETURNING log_id, attempts`,
		[]any{lastError, id, owner}, hub.NotificationFailed, lastError)
}

func (db *DB) releaseOutbox(ctx context.Context, id int64, owner, query string, args []any, status, lastError string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var logID int64
		var attempts int
		err := tx.QueryRowContext(ctx, query, args...).Scan(&logID, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.ECONFLICT, "outbox mail %d is no longer leased to this sender", id)
		} else if err != nil {
			return fmt.Errorf("release mail %d: %w", id, err)
		}
		return updateNotificationLog(ctx, tx, logID, status, lastError, attempts, now)
	})
}

func updateNotificationLog(ctx context.Context, tx *sql.Tx, id int64, status, lastError string, attempts int, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE notification_log
		SET status = $1, error = $2, attempts = $3, updated_at = $4 WHERE id = $5`,
		status, lastError, attempts, millis(now), id); err != nil {
		return fmt.Errorf("update notification log: %w", err)
	}
	return nil
}

// NextOutboxDue returns when the next pending mail may be claimed: its next
// attempt, or the end of its lease if that is later.
func (db *DB) NextOutboxDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT MIN(CASE
			WHEN lease_until IS NOT NULL AND lease_until >= next_attempt_at THEN lease_until + 1
			ELSE next_attempt_at END)
		FROM notification_outbox WHERE state = 'pending'`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find next due mail: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMillis(next.Int64), true, nil
}

// FindNotifications returns notification_log rows, newest first.
func (db *DB) FindNotifications(ctx context.Context, f hub.NotificationFilter) ([]*hub.Notification, error) {
	var where []string
	var args []any
	if f.CustomerID != "" {
		args = append(args, f.CustomerID)
		where = append(where, "customer_id = "+placeholder(len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, "status = "+placeholder(len(args)))
	}
	query := `SELECT id, created_at, updated_at, channel, customer_id, event_id, event_type,
		recipient, subject, status, reason, error, attempts, COALESCE(silence_id, 0) FROM notification_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > maxNotificationRows {
		limit = maxNotificationRows
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY created_at DESC, id DESC LIMIT `+placeholder(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("find notifications: %w", err)
	}
	defer rows.Close()
	out := []*hub.Notification{}
	for rows.Next() {
		var (
			n                hub.Notification
			created, updated int64
			event            sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &created, &updated, &n.Channel, &n.CustomerID, &event, &n.EventType,
			&n.Recipient, &n.Subject, &n.Status, &n.Reason, &n.Error, &n.Attempts, &n.SilenceID); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		n.CreatedAt, n.UpdatedAt, n.EventID = fromMillis(created), fromMillis(updated), event.Int64
		out = append(out, &n)
	}
	return out, rows.Err()
}

// FindOutboxStats counts the pending and failed mails per customer.
func (db *DB) FindOutboxStats(ctx context.Context) (map[string]hub.OutboxStats, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT customer_id,
			SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END),
			SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END)
		FROM notification_outbox GROUP BY customer_id`)
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]hub.OutboxStats{}
	for rows.Next() {
		var id string
		var s hub.OutboxStats
		if err := rows.Scan(&id, &s.Pending, &s.Failed); err != nil {
			return nil, fmt.Errorf("scan outbox counts: %w", err)
		}
		out[id] = s
	}
	return out, rows.Err()
}
