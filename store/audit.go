package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var (
	_ hub.AuditService   = (*DB)(nil)
	_ hub.VersionService = (*DB)(nil)
)

// CreateAuditEntry appends to the audit log; At is the database's clock.
func (db *DB) CreateAuditEntry(ctx context.Context, e *hub.AuditEntry) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, action, customer_id, result, detail)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			millis(now), e.Actor, e.Action, e.CustomerID, e.Result, e.Detail).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("insert audit entry: %w", err)
		}
		e.At = now
		return nil
	})
}

// FindAuditEntries returns entries newest first.
func (db *DB) FindAuditEntries(ctx context.Context, f hub.AuditFilter) ([]*hub.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT id, at, actor, action, customer_id, result, detail FROM audit_log`
	args := []any{}
	if f.CustomerID != "" {
		q += ` WHERE customer_id = $1`
		args = append(args, f.CustomerID)
	}
	args = append(args, limit)
	q += ` ORDER BY id DESC LIMIT ` + placeholder(len(args))
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	defer rows.Close()
	out := []*hub.AuditEntry{}
	for rows.Next() {
		var e hub.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.CustomerID, &e.Result, &e.Detail); err != nil {
			return nil, fmt.Errorf("scan audit entry: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, &e)
	}
	return out, rows.Err()
}

// SetLatestControllerVersion records the newest release of an image.
func (db *DB) SetLatestControllerVersion(ctx context.Context, v *hub.ControllerVersion) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		checked := v.CheckedAt
		if checked.IsZero() {
			checked = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO controller_versions (image, version, checked_at) VALUES ($1, $2, $3)
			ON CONFLICT (image) DO UPDATE SET version = excluded.version, checked_at = excluded.checked_at`,
			v.Image, v.Version, millis(checked))
		if err != nil {
			return fmt.Errorf("set controller version: %w", err)
		}
		return nil
	})
}

// FindLatestControllerVersion returns the most recently checked record.
func (db *DB) FindLatestControllerVersion(ctx context.Context) (*hub.ControllerVersion, error) {
	var v hub.ControllerVersion
	var checked int64
	err := db.read.QueryRowContext(ctx, `SELECT image, version, checked_at FROM controller_versions
		ORDER BY checked_at DESC LIMIT 1`).Scan(&v.Image, &v.Version, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no controller version known yet")
	} else if err != nil {
		return nil, fmt.Errorf("find controller version: %w", err)
	}
	v.CheckedAt = fromMillis(checked)
	return &v, nil
}
