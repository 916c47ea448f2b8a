package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PingWrite checks the write path, for the readiness probe: it begins a
// write transaction and runs a write that changes nothing, so that a
// database that can be read but not written (a PostgreSQL standby after a
// failover, a read-only session, a SQLite writer that is stuck) fails it,
// not only one that does not answer.
func (db *DB) PingWrite(ctx context.Context) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		// No lease has an empty name (AcquireLease refuses one): the
		// statement matches no row, but it is still a write.
		if _, err := tx.ExecContext(ctx, `UPDATE leases SET owner = owner WHERE name = ''`); err != nil {
			return fmt.Errorf("write check: %w", err)
		}
		return nil
	})
}
