package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// tierStep is one step of PruneHistory: a statement that deletes (or
// empties) up to a batch of rows older than a cutoff. Its arguments are
// the cutoff (unix ms), $1, and the batch size, $2.
type tierStep struct {
	name   string
	query  string
	cutoff func(now time.Time, t hub.HistoryTiers) time.Time
	// skip, when set, says that the step has nothing to do with these tiers.
	skip func(t hub.HistoryTiers) bool
}

// tierSteps trims each tier. Report rows (and with them their bodies) go
// once rolled up (the watermark) and never when they are a latest report;
// bodies go past the full tier when rows outlive them; keyframes go when no
// body needs them.
var tierSteps = func() []tierStep {
	rawCutoff := func(now time.Time, t hub.HistoryTiers) time.Time { return now.Add(-t.RawFor()) }
	fullCutoff := func(now time.Time, t hub.HistoryTiers) time.Time { return now.Add(-t.FullFor) }
	bodiesOutliveRows := func(t hub.HistoryTiers) bool { return t.FullFor >= t.RawFor() }
	var steps []tierStep
	for _, st := range historyStreams {
		steps = append(steps,
			tierStep{
				name: st.table,
				query: st.sql(`DELETE FROM {table} WHERE id IN (
					SELECT r.id FROM {table} r
					WHERE r.received_at < $1
						AND r.id <= (SELECT last_id FROM history_progress WHERE step = 'rollup:{stream}')
						AND NOT EXISTS (SELECT 1 FROM {owners} o WHERE o.latest_report_id = r.id)
					LIMIT $2)`),
				cutoff: rawCutoff,
			},
			tierStep{
				// The id bound makes this a range scan of the bodies; ids
				// grow with received_at. Bodies an older version stored
				// inline stay until their report goes, at most RawFor.
				name: st.bodies,
				query: st.sql(`DELETE FROM {bodies} WHERE report_id IN (
					SELECT b.report_id FROM {bodies} b JOIN {table} r ON r.id = b.report_id
					WHERE b.report_id <= (SELECT MAX(id) FROM {table} WHERE received_at < $1)
						AND r.received_at < $1
						AND NOT EXISTS (SELECT 1 FROM {owners} o WHERE o.latest_report_id = b.report_id)
					LIMIT $2)`),
				cutoff: fullCutoff,
				skip:   bodiesOutliveRows,
			})
	}
	for _, res := range []struct {
		name   string
		cutoff func(now time.Time, t hub.HistoryTiers) time.Time
	}{
		{hub.ResolutionHourly, func(now time.Time, t hub.HistoryTiers) time.Time { return now.Add(-t.HourlyFor()) }},
		{hub.ResolutionDaily, func(now time.Time, t hub.HistoryTiers) time.Time { return now.Add(-t.DailyFor()) }},
	} {
		steps = append(steps, tierStep{
			name: res.name + "_rollups",
			query: `DELETE FROM metric_rollups WHERE (stream, subject_id, resolution, bucket_start) IN (
				SELECT stream, subject_id, resolution, bucket_start FROM metric_rollups
				WHERE resolution = '` + res.name + `' AND bucket_start < $1 LIMIT $2)`,
			cutoff: res.cutoff,
		})
	}
	return append(steps, tierStep{
		name: "body_keyframes",
		query: `DELETE FROM body_keyframes WHERE id IN (
			SELECT k.id FROM body_keyframes k
			WHERE k.day < $1
				AND NOT EXISTS (SELECT 1 FROM report_bodies b WHERE b.keyframe_id = k.id)
				AND NOT EXISTS (SELECT 1 FROM host_report_bodies b WHERE b.keyframe_id = k.id)
			LIMIT $2)`,
		cutoff: fullCutoff,
	})
}()

// tierBatchSize is the most rows one tier step deletes in a transaction.
// A report row takes its body with it (ON DELETE CASCADE), so batches are
// smaller than the prune's: the report writer waits for at most one.
const tierBatchSize = 250

// PruneHistory runs every tier step in batches of tierBatchSize rows, each
// batch its own transaction. The clock is read once: every step cuts at
// the same moment.
func (db *DB) PruneHistory(ctx context.Context) ([]hub.PruneResult, error) {
	now := db.Now().UTC()
	out := make([]hub.PruneResult, 0, len(tierSteps))
	for _, step := range tierSteps {
		if step.skip != nil && step.skip(db.Tiers) {
			continue
		}
		n, err := db.deleteInBatches(ctx, step.name, step.query, tierBatchSize, millis(step.cutoff(now, db.Tiers)))
		if err != nil {
			return out, err
		}
		out = append(out, hub.PruneResult{Step: step.name, Deleted: n})
	}
	return out, nil
}

// ReclaimSpace runs one step of incremental vacuum, moving up to pages
// free pages to the end of the file and truncating it, and returns how
// many free pages are left. A database without auto_vacuum=INCREMENTAL
// (one not created by the hub) reuses its free pages but cannot return
// them: it reports 0.
func (db *DB) ReclaimSpace(ctx context.Context, pages int) (int64, error) {
	if !db.incrementalVacuum {
		return 0, nil
	}
	var free int64
	err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		// A pragma takes no bound parameters; pages is an int.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, max(1, pages))); err != nil {
			return fmt.Errorf("incremental vacuum: %w", err)
		}
		return tx.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free)
	})
	return free, err
}

// IncrementalVacuum reports whether the database can return free pages to
// the operating system (auto_vacuum=INCREMENTAL, set when the hub created
// it). A database made otherwise needs one offline VACUUM to get it.
func (db *DB) IncrementalVacuum() bool { return db.incrementalVacuum }

// readAutoVacuum records the database's auto_vacuum mode.
func (db *DB) readAutoVacuum(ctx context.Context) error {
	var mode int
	if err := db.write.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("read auto_vacuum: %w", err)
	}
	db.incrementalVacuum = mode == 2
	return nil
}
