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
	_ hub.DRService             = (*DB)(nil)
	_ hub.RecoveryAccessService = (*DB)(nil)
)

// SaveDRReadiness stores r and the event of its grade change in one
// transaction. The write is a compare-and-set on the stored grade, so that
// of two replicas judging the same change only one stores it and its event.
func (db *DB) SaveDRReadiness(ctx context.Context, r *hub.DRReadiness) (*hub.Event, error) {
	reasons, err := json.Marshal(r.Reasons)
	if err != nil {
		return nil, fmt.Errorf("encode dr reasons: %w", err)
	}
	var bundleAt sql.NullInt64
	if r.BundleAt != nil {
		bundleAt = sql.NullInt64{Int64: millis(*r.BundleAt), Valid: true}
	}
	var event *hub.Event
	err = db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		event = nil
		prev, err := scanDRReadiness(tx.QueryRowContext(ctx, drReadinessSelect+` WHERE customer_id = $1`, r.CustomerID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			prev = nil
		case err != nil:
			return fmt.Errorf("read dr readiness: %w", err)
		}
		ev := hub.DRTransition(prev, *r)
		changedAt := r.CheckedAt
		if prev != nil && prev.Grade == r.Grade {
			changedAt = prev.ChangedAt
		}
		var res sql.Result
		if prev == nil {
			res, err = tx.ExecContext(ctx, `INSERT INTO dr_readiness (customer_id, grade, reasons, bundle_at, checked_at, changed_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id) DO NOTHING`,
				r.CustomerID, r.Grade, string(reasons), bundleAt, millis(r.CheckedAt), millis(changedAt))
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE dr_readiness SET grade = $1, reasons = $2, bundle_at = $3,
					checked_at = $4, changed_at = $5
				WHERE customer_id = $6 AND grade = $7 AND changed_at = $8`,
				r.Grade, string(reasons), bundleAt, millis(r.CheckedAt), millis(changedAt),
				r.CustomerID, prev.Grade, millis(prev.ChangedAt))
		}
		if err != nil {
			return fmt.Errorf("save dr readiness: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another replica stored a change first
		}
		r.ChangedAt = changedAt
		if ev == nil {
			return nil
		}
		stored, err := insertEvent(ctx, tx, ev, now)
		if err != nil {
			return err
		}
		if stored {
			event = ev
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if event != nil {
		db.eventsStored()
	}
	return event, nil
}

const drReadinessSelect = `SELECT customer_id, grade, reasons, bundle_at, checked_at, changed_at FROM dr_readiness`

func scanDRReadiness(row rowScanner) (*hub.DRReadiness, error) {
	var (
		r                  hub.DRReadiness
		reasons            string
		bundleAt           sql.NullInt64
		checked, changedAt int64
	)
	if err := row.Scan(&r.CustomerID, &r.Grade, &reasons, &bundleAt, &checked, &changedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(reasons), &r.Reasons); err != nil || r.Reasons == nil {
		r.Reasons = []hub.DRReason{}
	}
	if bundleAt.Valid {
		at := fromMillis(bundleAt.Int64)
		r.BundleAt = &at
	}
	r.CheckedAt, r.ChangedAt = fromMillis(checked), fromMillis(changedAt)
	return &r, nil
}

// FindDRReadiness returns a customer's stored readiness.
func (db *DB) FindDRReadiness(ctx context.Context, customerID string) (*hub.DRReadiness, error) {
	r, err := scanDRReadiness(db.read.QueryRowContext(ctx, drReadinessSelect+` WHERE customer_id = $1`, customerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no disaster-recovery check yet", customerID)
	} else if err != nil {
		return nil, fmt.Errorf("find dr readiness: %w", err)
	}
	return r, nil
}

// FindDRReadinesses returns the readiness of every managed customer that
// has been checked, by customer id.
func (db *DB) FindDRReadinesses(ctx context.Context) ([]*hub.DRReadiness, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT d.customer_id, d.grade, d.reasons, d.bundle_at, d.checked_at, d.changed_at
		FROM dr_readiness d JOIN customer_configs cc ON cc.customer_id = d.customer_id
		ORDER BY d.customer_id`)
	if err != nil {
		return nil, fmt.Errorf("find dr readiness: %w", err)
	}
	defer rows.Close()
	out := []*hub.DRReadiness{}
	for rows.Next() {
		r, err := scanDRReadiness(rows)
		if err != nil {
			return nil, fmt.Errorf("scan dr readiness: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// recoveryLinkKeep is how long used and expired links are kept before the
// next link minted deletes them.
const recoveryLinkKeep = 30 * 24 * time.Hour

// CreateRecoveryLink stores a new link and deletes links long expired.
func (db *DB) CreateRecoveryLink(ctx context.Context, l *hub.RecoveryLink) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_links WHERE expires_at < $1`,
			millis(now.Add(-recoveryLinkKeep))); err != nil {
			return fmt.Errorf("prune recovery links: %w", err)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO recovery_links (customer_id, token_hash, reason, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			l.CustomerID, l.TokenHash, l.Reason, l.CreatedBy, millis(l.CreatedAt), millis(l.ExpiresAt)).Scan(&l.ID)
		if err != nil {
			return fmt.Errorf("insert recovery link: %w", err)
		}
		return nil
	})
}

// ConsumeRecoveryLink marks the link used with one conditional UPDATE: the
// database lets exactly one of concurrent calls change the row.
func (db *DB) ConsumeRecoveryLink(ctx context.Context, customerID, tokenHash string) (*hub.RecoveryLinkConsumed, error) {
	var out hub.RecoveryLinkConsumed
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		l, err := scanRecoveryLink(tx.QueryRowContext(ctx, `UPDATE recovery_links SET used_at = $1
			WHERE token_hash = $2 AND customer_id = $3 AND used_at IS NULL AND expires_at > $1
			RETURNING `+recoveryLinkColumns, millis(now), tokenHash, customerID))
		if err == nil {
			out = hub.RecoveryLinkConsumed{Outcome: hub.RetrievalOK, Link: l}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("consume recovery link: %w", err)
		}
		l, err = scanRecoveryLink(tx.QueryRowContext(ctx, `SELECT `+recoveryLinkColumns+` FROM recovery_links
			WHERE token_hash = $1 AND customer_id = $2`, tokenHash, customerID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = hub.RecoveryLinkConsumed{Outcome: hub.RetrievalDenied}
		case err != nil:
			return fmt.Errorf("find recovery link: %w", err)
		case !l.UsedAt.IsZero():
			out = hub.RecoveryLinkConsumed{Outcome: hub.RetrievalUsed, Link: l}
		default:
			out = hub.RecoveryLinkConsumed{Outcome: hub.RetrievalExpired, Link: l}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

const recoveryLinkColumns = `id, customer_id, token_hash, reason, created_by, created_at, expires_at, COALESCE(used_at, 0)`

func scanRecoveryLink(row rowScanner) (*hub.RecoveryLink, error) {
	var (
		l                      hub.RecoveryLink
		created, expires, used int64
	)
	if err := row.Scan(&l.ID, &l.CustomerID, &l.TokenHash, &l.Reason, &l.CreatedBy, &created, &expires, &used); err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt = fromMillis(created), fromMillis(expires)
	if used != 0 {
		l.UsedAt = fromMillis(used)
	}
	return &l, nil
}

// maxRetrievalDetail bounds a retrieval row's detail.
const maxRetrievalDetail = 600

// CreateRetrieval appends a retrieval audit row.
func (db *DB) CreateRetrieval(ctx context.Context, r *hub.Retrieval) error {
	detail := r.Detail
	if len(detail) > maxRetrievalDetail {
		detail = detail[:maxRetrievalDetail]
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO retrievals (at, customer_id, resource, via, outcome, client, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			millis(now), r.CustomerID, r.Resource, r.Via, r.Outcome, r.Client, strings.ToValidUTF8(detail, "\uFFFD")).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("insert retrieval: %w", err)
		}
		r.At = now
		return nil
	})
}

// FindRetrievals returns a customer's retrievals, newest first.
func (db *DB) FindRetrievals(ctx context.Context, customerID string, limit int) ([]*hub.Retrieval, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, customer_id, resource, via, outcome, client, detail
		FROM retrievals WHERE customer_id = $1 ORDER BY id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("find retrievals: %w", err)
	}
	defer rows.Close()
	out := []*hub.Retrieval{}
	for rows.Next() {
		var r hub.Retrieval
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.CustomerID, &r.Resource, &r.Via, &r.Outcome, &r.Client, &r.Detail); err != nil {
			return nil, fmt.Errorf("scan retrieval: %w", err)
		}
		r.At = fromMillis(at)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// FindLatestHostReportBodies returns the latest report body of each of the
// customer's hosts (restore tests travel in host reports).
func (db *DB) FindLatestHostReportBodies(ctx context.Context, customerID string) ([]json.RawMessage, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT COALESCE(b.body, r.body), b.keyframe_id
		FROM hosts h JOIN host_reports r ON r.id = h.latest_report_id
			LEFT JOIN host_report_bodies b ON b.report_id = r.id
		WHERE h.customer_id = $1 ORDER BY h.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("find host report bodies: %w", err)
	}
	type stored struct {
		body     []byte
		keyframe sql.NullInt64
	}
	var all []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.body, &s.keyframe); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan host report body: %w", err)
		}
		all = append(all, s)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(all))
	for _, s := range all {
		body, err := db.loadBody(ctx, s.body, s.keyframe)
		if err != nil {
			return nil, err
		}
		out = append(out, body)
	}
	return out, nil
}
