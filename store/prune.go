package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.PruneService = (*DB)(nil)

// pruneBatchSize is the most rows one prune transaction deletes, so that the
// writer is never held long enough to block ingest.
const pruneBatchSize = 1000

// pruneStep deletes one batch of a table's rows older than a cutoff.
type pruneStep struct {
	name string
	// batch deletes up to $2 rows older than $1: the subquery has no ORDER BY so that each batch reads only
	// the start of the time index.
	batch string
	// expired makes the cutoff the present instead of before: the step
	// deletes state that no longer means anything, whatever the retention.
	expired bool
}

// pruneSteps is everything Prune trims, in order. Work that adds a table
// of history adds its step here.
var pruneSteps = []pruneStep{
	{
		name: "reports",
		// A customer's latest report is kept however old, since the fleet
		// view and the status are computed from it.
		batch: `DELETE FROM reports WHERE id IN (
			SELECT r.id FROM reports r
			WHERE r.received_at < $1
				AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.latest_report_id = r.id)
			LIMIT $2)`,
	},
	{
		name: "host_reports",
		// Likewise a host's latest report.
		batch: `DELETE FROM host_reports WHERE id IN (
			SELECT r.id FROM host_reports r
			WHERE r.received_at < $1
				AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.latest_report_id = r.id)
			LIMIT $2)`,
	},
	{
		name: "events",
		batch: `DELETE FROM events WHERE id IN (
			SELECT id FROM events WHERE received_at < $1 LIMIT $2)`,
	},
	{
		name: "flap_episodes",
		// Ended flapping episodes; an open one is kept however old.
		batch: `DELETE FROM flap_episodes WHERE id IN (
			SELECT id FROM flap_episodes WHERE ended_at < $1 LIMIT $2)`,
	},
	{
		name: "fleet_incidents",
		// Resolved fleet incidents, their members with them (ON DELETE
		// CASCADE); an open one is kept.
		batch: `DELETE FROM fleet_incidents WHERE id IN (
			SELECT id FROM fleet_incidents WHERE resolved_at < $1 LIMIT $2)`,
	},
	{
		name: "notification_log",
		// A mail still being tried keeps its row; a failed one's outbox row
		// goes with its log row (ON DELETE CASCADE).
		batch: `DELETE FROM notification_log WHERE id IN (
			SELECT id FROM notification_log WHERE created_at < $1 AND status <> 'queued' LIMIT $2)`,
	},
	{
		name: "rate_limits",
		// A key whose theoretical arrival time is past limits nothing: it
		// behaves exactly as a key without a row.
		batch: `DELETE FROM rate_limits WHERE key IN (
			SELECT key FROM rate_limits WHERE tat < $1 LIMIT $2)`,
		expired: true,
	},
}

// Prune runs every prune step in batches of pruneBatchSize rows, each batch
// its own transaction. Expired rate-limit state goes too.
func (db *DB) Prune(ctx context.Context, before time.Time) ([]hub.PruneResult, error) {
	out := make([]hub.PruneResult, 0, len(pruneSteps))
	for _, step := range pruneSteps {
		cutoff := before
		if step.expired {
			cutoff = db.Now()
		}
		n, err := db.deleteInBatches(ctx, step.name, step.batch, pruneBatchSize, millis(cutoff))
		if err != nil {
			return out, err
		}
		out = append(out, hub.PruneResult{Step: step.name, Deleted: n})
	}
	return out, nil
}

// deleteInBatches runs query — a DELETE of at most batch rows, whose
// arguments are args and then the batch size — in one transaction after
// another until a run deletes fewer than batch rows, and returns how many
// rows went. Short transactions keep the writer free for ingest.
func (db *DB) deleteInBatches(ctx context.Context, name, query string, batch int, args ...any) (int64, error) {
	args = append(args, batch)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
			r, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("prune %s: %w", name, err)
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
