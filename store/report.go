package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// Ensure DB implements the service.
var _ hub.ReportService = (*DB)(nil)

// CreateReport stores a report and makes it the customer's latest, creating
// a manual customer when the id is new.
func (db *DB) CreateReport(ctx context.Context, r *hub.Report) (*hub.ReportResult, error) {
	return db.enqueueReport(ctx, r)
}

func createReport(ctx context.Context, tx *sql.Tx, r *hub.Report, now time.Time) (hub.ReportResult, error) {
	var res hub.ReportResult
	ins, err := tx.ExecContext(ctx,
		`INSERT INTO customers (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		r.CustomerID, millis(now))
	if err != nil {
		return res, fmt.Errorf("create customer: %w", err)
	}
	if n, _ := ins.RowsAffected(); n == 1 {
		res.NewCustomer = true
	}
	s := r.Summarize(now)
	err = tx.QueryRowContext(ctx, `INSERT INTO reports (
			customer_id, received_at, reported_at, controller_version, controller_url,
			health, monitoring_enabled, hostname, cpu_percent, mem_percent, disk_percent,
			containers_total, containers_running, last_backup_at, last_backup_status, body
		) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.CustomerID, millis(now), nullMillis(s.ReportedAt), s.ControllerVersion, s.ControllerURL,
		s.Health, s.MonitoringEnabled, s.Hostname, s.CPUPercent, s.MemPercent, s.DiskPercent,
		s.ContainersTotal, s.ContainersRunning, nullMillis(s.LastBackupAt), s.LastBackupStatus, encodeBody(r.Raw),
	).Scan(&res.ReportID)
	if err != nil {
		return res, fmt.Errorf("insert report: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE customers SET latest_report_id = ?, latest_received_at = ? WHERE id = ?`,
		res.ReportID, millis(now), r.CustomerID); err != nil {
		return res, fmt.Errorf("update latest report: %w", err)
	}
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM customer_configs WHERE customer_id = ?`, r.CustomerID).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return res, fmt.Errorf("read config status: %w", err)
	default:
		res.CustomerBlocked = status == hub.ConfigBlocked
	}
	return res, nil
}

// summaryColumns are the reports columns scanned by scanSummary, in order.
const summaryColumns = `r.id, r.received_at, r.reported_at, r.controller_version, r.controller_url,
	r.health, r.monitoring_enabled, r.hostname, r.cpu_percent, r.mem_percent, r.disk_percent,
	r.containers_total, r.containers_running, r.last_backup_at, r.last_backup_status`

// summaryDest returns scan destinations for summaryColumns and a function
// that finishes the summary after the scan.
func summaryDest(s *hub.ReportSummary) ([]any, func()) {
	var received int64
	var reported, lastBackup sql.NullInt64
	dest := []any{&s.ReportID, &received, &reported, &s.ControllerVersion, &s.ControllerURL,
		&s.Health, &s.MonitoringEnabled, &s.Hostname, &s.CPUPercent, &s.MemPercent, &s.DiskPercent,
		&s.ContainersTotal, &s.ContainersRunning, &lastBackup, &s.LastBackupStatus}
	return dest, func() {
		s.ReceivedAt = fromMillis(received)
		s.ReportedAt = timePtr(reported)
		s.LastBackupAt = timePtr(lastBackup)
	}
}

// FindLatestReport returns the customer's latest report with its body.
func (db *DB) FindLatestReport(ctx context.Context, customerID string) (*hub.StoredReport, error) {
	out := hub.StoredReport{CustomerID: customerID}
	dest, finish := summaryDest(&out.Summary)
	var stored []byte
	dest = append(dest, &stored)
	err := db.read.QueryRowContext(ctx, `SELECT `+summaryColumns+`, r.body
		FROM customers c JOIN reports r ON r.id = c.latest_report_id
		WHERE c.id = ?`, customerID).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no report", customerID)
	} else if err != nil {
		return nil, fmt.Errorf("find latest report: %w", err)
	}
	finish()
	if out.Body, err = decodeBody(stored); err != nil {
		return nil, err
	}
	return &out, nil
}

// FindHistory returns the report summaries since the given time, oldest first.
func (db *DB) FindHistory(ctx context.Context, customerID string, since time.Time) ([]hub.ReportSummary, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+summaryColumns+`
		FROM reports r WHERE r.customer_id = ? AND r.received_at >= ?
		ORDER BY r.received_at, r.id`, customerID, millis(since))
	if err != nil {
		return nil, fmt.Errorf("find history: %w", err)
	}
	defer rows.Close()
	out := []hub.ReportSummary{}
	for rows.Next() {
		var s hub.ReportSummary
		dest, finish := summaryDest(&s)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan history: %w", err)
		}
		finish()
		out = append(out, s)
	}
	return out, rows.Err()
}
