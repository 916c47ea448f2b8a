package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.RefusedReportService = (*DB)(nil)

// AddRefusedReports adds a replica's counts of refused reports to the
// shared ones, hour by hour, and deletes each counted customer's hours
// that started before before: a customer keeps at most a day or so of rows.
func (db *DB) AddRefusedReports(ctx context.Context, counts []hub.RefusedReportCount, before time.Time) error {
	if len(counts) == 0 {
		return nil
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, c := range counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO refused_reports (customer_id, hour, refused, last_at, last_reason)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (customer_id, hour) DO UPDATE SET
					refused = refused_reports.refused + excluded.refused,
					last_reason = CASE WHEN excluded.last_at >= refused_reports.last_at
						THEN excluded.last_reason ELSE refused_reports.last_reason END,
					last_at = CASE WHEN excluded.last_at > refused_reports.last_at
						THEN excluded.last_at ELSE refused_reports.last_at END`,
				c.CustomerID, millis(c.Hour), c.Refused, millis(c.LastAt), c.LastReason); err != nil {
				return fmt.Errorf("add refused reports of %s: %w", c.CustomerID, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM refused_reports WHERE customer_id = $1 AND hour < $2`,
				c.CustomerID, millis(before)); err != nil {
				return fmt.Errorf("forget old refused reports of %s: %w", c.CustomerID, err)
			}
		}
		return nil
	})
}

// FindRefusedReports sums a customer's refused reports in the hours that
// start at or after since, with the latest refusal's time and reason.
func (db *DB) FindRefusedReports(ctx context.Context, customerID string, since time.Time) (hub.RefusedReports, error) {
	var out hub.RefusedReports
	var total, lastAt sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `SELECT SUM(refused), MAX(last_at) FROM refused_reports
		WHERE customer_id = $1 AND hour >= $2`, customerID, millis(since)).Scan(&total, &lastAt); err != nil {
		return out, fmt.Errorf("find refused reports: %w", err)
	}
	if !total.Valid || total.Int64 == 0 {
		return out, nil
	}
	out.Refused, out.LastAt = total.Int64, fromMillis(lastAt.Int64)
	err := db.read.QueryRowContext(ctx, `SELECT last_reason FROM refused_reports
		WHERE customer_id = $1 AND hour >= $2 ORDER BY last_at DESC, hour DESC LIMIT 1`,
		customerID, millis(since)).Scan(&out.LastReason)
	if err != nil {
		return out, fmt.Errorf("find refused reports: %w", err)
	}
	return out, nil
}

// FindCustomerIDs returns the ids of every customer, managed and manual.
func (db *DB) FindCustomerIDs(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM customers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find customer ids: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan customer id: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
