package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.InfraBackupService = (*DB)(nil)

// infraSealContext binds a sealed backup body to its customer.
func infraSealContext(customerID string) string {
	return "infra_backups.body:" + customerID
}

// CreateInfraBackup stores a backup sealed and keeps only the customer's
// latest hub.InfraBackupVersionsKept.
func (db *DB) CreateInfraBackup(ctx context.Context, b *hub.InfraBackup) (*hub.StoredInfraBackup, error) {
	out := &hub.StoredInfraBackup{CustomerID: b.CustomerID, CreatedAt: b.CreatedAt, Problems: b.Problems, Body: b.Raw}
	problems := b.Problems.Encode()
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, b.CustomerID).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.EINVALID, "customer %s is unknown: send a report or create its config first", b.CustomerID)
		} else if err != nil {
			return fmt.Errorf("check customer: %w", err)
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO infra_backups (customer_id, created_at, received_at, body_sealed, problems)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			b.CustomerID, millis(b.CreatedAt), millis(now),
			db.sealer.Seal(string(b.Raw), infraSealContext(b.CustomerID)), problems).Scan(&out.ID)
		if err != nil {
			return fmt.Errorf("insert infra backup: %w", err)
		}
		// The newest complete backup stays whatever came after it: a broken
		// controller posting incomplete ones must not push it out.
		if _, err := tx.ExecContext(ctx, `DELETE FROM infra_backups WHERE customer_id = $1 AND id NOT IN (
				SELECT id FROM infra_backups WHERE customer_id = $1 ORDER BY id DESC LIMIT $2)
			AND id <> COALESCE((SELECT MAX(id) FROM infra_backups WHERE customer_id = $1 AND problems = ''), 0)`,
			b.CustomerID, hub.InfraBackupVersionsKept); err != nil {
			return fmt.Errorf("prune infra backups: %w", err)
		}
		out.ReceivedAt = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const infraBackupSelect = `SELECT id, customer_id, created_at, received_at, body_sealed, problems FROM infra_backups`

func (db *DB) scanInfraBackup(row rowScanner) (*hub.StoredInfraBackup, error) {
	var (
		b                 hub.StoredInfraBackup
		created, received int64
		sealed, problems  string
	)
	if err := row.Scan(&b.ID, &b.CustomerID, &created, &received, &sealed, &problems); err != nil {
		return nil, err
	}
	b.Problems = hub.ParseFieldProblems(problems)
	body, err := db.sealer.Open(sealed, infraSealContext(b.CustomerID))
	if err != nil {
		return nil, fmt.Errorf("open infra backup %d: %w", b.ID, err)
	}
	b.CreatedAt, b.ReceivedAt, b.Body = fromMillis(created), fromMillis(received), []byte(body)
	return &b, nil
}

// FindLatestInfraBackup returns the customer's newest backup.
func (db *DB) FindLatestInfraBackup(ctx context.Context, customerID string) (*hub.StoredInfraBackup, error) {
	b, err := db.scanInfraBackup(db.read.QueryRowContext(ctx,
		infraBackupSelect+` WHERE customer_id = $1 ORDER BY id DESC LIMIT 1`, customerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no infrastructure backup", customerID)
	} else if err != nil {
		return nil, fmt.Errorf("find infra backup: %w", err)
	}
	return b, nil
}

// FindInfraBackups lists the customer's kept backups, newest first.
func (db *DB) FindInfraBackups(ctx context.Context, customerID string) ([]*hub.StoredInfraBackup, error) {
	rows, err := db.read.QueryContext(ctx, infraBackupSelect+` WHERE customer_id = $1 ORDER BY id DESC`, customerID)
	if err != nil {
		return nil, fmt.Errorf("find infra backups: %w", err)
	}
	defer rows.Close()
	out := []*hub.StoredInfraBackup{}
	for rows.Next() {
		b, err := db.scanInfraBackup(rows)
		if err != nil {
			return nil, fmt.Errorf("scan infra backup: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
