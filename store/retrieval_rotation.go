package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	hub "github.com/felhom/hub"
)

// RotateRetrievalPassword replaces the customer's retrieval password: the
// stored hash changes in the same statement, so the old password stops
// working at once on every replica.
func (db *DB) RotateRetrievalPassword(ctx context.Context, id, newPassword string) error {
	if newPassword == "" {
		return errors.New("rotate retrieval password: empty password")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		return updateConfig(ctx, tx, id, now, `retrieval_password_hash = $1, retrieval_password_sealed = $2, updated_at = $3`,
			hub.HashSecret(newPassword), db.sealer.Seal(newPassword, sealContext("retrieval_password", id)), millis(now))
	})
}
