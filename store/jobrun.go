package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.JobRunService = (*DB)(nil)

// FindJobRun returns the last recorded run of a job.
func (db *DB) FindJobRun(ctx context.Context, job string) (time.Time, error) {
	var at int64
	err := db.read.QueryRowContext(ctx, `SELECT last_run_at FROM job_runs WHERE job = $1`, job).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, hub.Errorf(hub.ENOTFOUND, "job %s has never run", job)
	} else if err != nil {
		return time.Time{}, fmt.Errorf("find job run: %w", err)
	}
	return fromMillis(at), nil
}

// RecordJobRun records a run of a job. The recorded time never moves back,
// so a slow run finishing after a newer one cannot make a job run twice.
func (db *DB) RecordJobRun(ctx context.Context, job string, at time.Time) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		return recordJobRun(ctx, tx, job, at)
	})
}

func recordJobRun(ctx context.Context, tx *sql.Tx, job string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO job_runs (job, last_run_at) VALUES ($1, $2)
		ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at
		WHERE excluded.last_run_at > job_runs.last_run_at`, job, millis(at)); err != nil {
		return fmt.Errorf("record job run: %w", err)
	}
	return nil
}
