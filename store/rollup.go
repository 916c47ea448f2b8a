package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// Rollups are kept by folding reports in id order past a watermark
// (history_progress 'rollup:<stream>'): each report is added to its hour's
// and its day's sums exactly once, because the watermark moves in the
// transaction that adds it. The walk must never pass an id that commits
// later: with SQLite one writer inserts ids in order; with several
// PostgreSQL replicas the rollup first waits, under the exclusive report-id
// lock, for every transaction inserting reports to end. The highest id is
// always a latest report, which is never deleted.

// rollupResolutions are the rolled-up resolutions and their bucket sizes.
var rollupResolutions = []struct {
	name   string
	bucket int64 // milliseconds
}{
	{hub.ResolutionHourly, int64(time.Hour / time.Millisecond)},
	{hub.ResolutionDaily, int64(24 * time.Hour / time.Millisecond)},
}

// RollUpHistory folds up to limit reports of each stream into the rollups,
// one transaction per stream, and returns how many it folded.
func (db *DB) RollUpHistory(ctx context.Context, limit int) (int, error) {
	total := 0
	for _, st := range historyStreams {
		var n int
		err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
			if err := db.dialect.lockReportIDsExclusive(ctx, tx); err != nil {
				return err
			}
			var err error
			n, err = rollUp(ctx, tx, st, limit)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("roll up %s: %w", st.name, err)
		}
		total += n
	}
	return total, nil
}

func rollUp(ctx context.Context, tx *sql.Tx, st historyStream, limit int) (int, error) {
	step := "rollup:" + st.name
	from, err := progress(ctx, tx, step)
	if err != nil {
		return 0, err
	}
	var n int
	var to sql.NullInt64
	if err := tx.QueryRowContext(ctx, st.sql(`SELECT COUNT(*), MAX(id) FROM (
			SELECT id FROM {table} WHERE id > $1 ORDER BY id LIMIT $2) AS batch`), from, limit).Scan(&n, &to); err != nil {
		return 0, fmt.Errorf("find reports to roll up: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	for _, res := range rollupResolutions {
		// The larger of two values is spelled with CASE: SQLite's MAX(a, b)
		// is GREATEST(a, b) in PostgreSQL.
		_, err := tx.ExecContext(ctx, st.sql(`INSERT INTO metric_rollups (
				stream, subject_id, resolution, bucket_start, samples,
				cpu_sum, cpu_max, mem_sum, mem_max, disk_sum, disk_max,
				cpu_unread, mem_unread, disk_unread)
			SELECT $1, {subject}, $2, received_at - received_at % $3, COUNT(*),
				SUM(cpu_percent), MAX(cpu_percent), SUM(mem_percent), MAX(mem_percent),
				SUM(disk_percent), MAX(disk_percent),
				SUM(CASE WHEN (unread_metrics & 1) <> 0 THEN 1 ELSE 0 END),
				SUM(CASE WHEN (unread_metrics & 2) <> 0 THEN 1 ELSE 0 END),
				SUM(CASE WHEN (unread_metrics & 4) <> 0 THEN 1 ELSE 0 END)
			FROM {table} WHERE id > $4 AND id <= $5
			GROUP BY 2, 4
			ON CONFLICT (stream, subject_id, resolution, bucket_start) DO UPDATE SET
				samples = metric_rollups.samples + excluded.samples,
				cpu_sum = metric_rollups.cpu_sum + excluded.cpu_sum,
				cpu_max = CASE WHEN metric_rollups.cpu_max > excluded.cpu_max THEN metric_rollups.cpu_max ELSE excluded.cpu_max END,
				mem_sum = metric_rollups.mem_sum + excluded.mem_sum,
				mem_max = CASE WHEN metric_rollups.mem_max > excluded.mem_max THEN metric_rollups.mem_max ELSE excluded.mem_max END,
				disk_sum = metric_rollups.disk_sum + excluded.disk_sum,
				disk_max = CASE WHEN metric_rollups.disk_max > excluded.disk_max THEN metric_rollups.disk_max ELSE excluded.disk_max END,
				cpu_unread = metric_rollups.cpu_unread + excluded.cpu_unread,
				mem_unread = metric_rollups.mem_unread + excluded.mem_unread,
				disk_unread = metric_rollups.disk_unread + excluded.disk_unread`),
			st.name, res.name, res.bucket, from, to.Int64)
		if err != nil {
			return 0, fmt.Errorf("upsert %s rollups: %w", res.name, err)
		}
	}
	return n, setProgress(ctx, tx, step, to.Int64)
}

// progress reads how far a background step has got.
func progress(ctx context.Context, q queryer, step string) (int64, error) {
	var last int64
	if err := q.QueryRowContext(ctx, `SELECT last_id FROM history_progress WHERE step = $1`, step).Scan(&last); err != nil {
		return 0, fmt.Errorf("read progress of %s: %w", step, err)
	}
	return last, nil
}

func setProgress(ctx context.Context, tx *sql.Tx, step string, last int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE history_progress SET last_id = $1 WHERE step = $2`, last, step); err != nil {
		return fmt.Errorf("record progress of %s: %w", step, err)
	}
	return nil
}
