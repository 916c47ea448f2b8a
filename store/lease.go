package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.LeaseService = (*DB)(nil)

// AcquireLease takes or renews the lease name for owner until ttl from now.
// One upsert does it, so that two replicas racing for an expired lease
// cannot both win: the row is written only when it is new, already owner's,
// or expired, and the rows it wrote say whether owner holds the lease.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if name == "" || owner == "" || ttl <= 0 {
		return false, hub.Errorf(hub.EINVALID, "a lease needs a name, an owner and a positive ttl")
	}
	var held bool
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE leases.owner = excluded.owner OR leases.expires_at < $4`,
			name, owner, millis(now.Add(ttl)), millis(now))
		if err != nil {
			return fmt.Errorf("acquire lease %s: %w", name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("acquire lease %s: %w", name, err)
		}
		held = n == 1
		return nil
	})
	return held, err
}

// ReleaseLease deletes the lease name if owner holds it.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner); err != nil {
			return fmt.Errorf("release lease %s: %w", name, err)
		}
		return nil
	})
}
