package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	hub "github.com/felhom/hub"
)

// Ensure DB implements the service.
var _ hub.ReportService = (*DB)(nil)

// CreateReport stores a report and makes it the customer's latest, creating
// a manual customer when the id is new. The same transaction moves the
// node's dead man's switch to up and, when the node was stale or down and is
// not muted, stores its node_recovered event.
func (db *DB) CreateReport(ctx context.Context, r *hub.Report) (*hub.ReportResult, error) {
	return db.enqueueReport(ctx, r)
}

func createReport(ctx context.Context, tx *sql.Tx, d dialect, r *hub.Report, now time.Time, defaults hub.Thresholds) (hub.ReportResult, *hub.Event, error) {
	var res hub.ReportResult
	ins, err := tx.ExecContext(ctx,
		`INSERT INTO customers (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		r.CustomerID, millis(now))
	if err != nil {
		return res, nil, fmt.Errorf("create customer: %w", err)
	}
	if n, _ := ins.RowsAffected(); n == 1 {
		res.NewCustomer = true
	}
	node, err := nodeBeforeReport(ctx, tx, r.CustomerID, defaults, d.forUpdate("c"))
	if err != nil {
		return res, nil, err
	}
	res.CustomerBlocked = node.blocked
	s := r.Summarize(now)
	problems := r.Problems.Encode()
	err = tx.QueryRowContext(ctx, `INSERT INTO reports (
			customer_id, received_at, reported_at, controller_version, controller_url,
			health, monitoring_enabled, hostname, cpu_percent, mem_percent, disk_percent,
			containers_total, containers_running, last_backup_at, last_backup_status, body, problems,
			unread_metrics, check_problems
		) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
		r.CustomerID, millis(now), nullMillis(s.ReportedAt), s.ControllerVersion, s.ControllerURL,
		s.Health, s.MonitoringEnabled, s.Hostname, s.CPUPercent, s.MemPercent, s.DiskPercent,
		s.ContainersTotal, s.ContainersRunning, nullMillis(s.LastBackupAt), s.LastBackupStatus, emptyBody, problems,
		s.UnreadMetrics(), hub.EncodeCheckProblems(s.CheckProblems),
	).Scan(&res.ReportID)
	if err != nil {
		return res, nil, fmt.Errorf("insert report: %w", err)
	}
	if err := insertBody(ctx, tx, reportStream, res.ReportID, r.Raw); err != nil {
		return res, nil, err
	}
	u := node.watch.Report(now, res.ReportID, s.MonitoringEnabled)
	if _, err := tx.ExecContext(ctx,
		`UPDATE customers SET latest_report_id = $1, latest_received_at = $2,
			monitor_state = $3, next_deadline = $4,
			state_changed_at = CASE WHEN monitor_state = $3 THEN state_changed_at ELSE $2 END,
			view_rev = view_rev + 1, changed_at = $2
		WHERE id = $5`,
		res.ReportID, millis(now), u.State, millis(*u.NextDeadline), r.CustomerID); err != nil {
		return res, nil, fmt.Errorf("update latest report: %w", err)
	}
	if u.Event == nil {
		return res, nil, nil
	}
	if _, err := insertEvent(ctx, tx, u.Event, now); err != nil {
		return res, nil, err
	}
	return res, u.Event, nil
}

// nodeState is a node's dead man's switch as a report finds it.
type nodeState struct {
	watch   hub.Watch
	blocked bool
}

// nodeBeforeReport reads the node's state, config and latest report before
// a new report replaces it.
//
// forUpdate (the dialect's, for alias c) locks the customer's row: a
// report on another replica, or a checker's transition, waits for this one,
// so the state read here is the state the report replaces.
func nodeBeforeReport(ctx context.Context, tx *sql.Tx, id string, defaults hub.Thresholds, forUpdate string) (nodeState, error) {
	n := nodeState{watch: hub.Watch{Kind: hub.WatchNode, ID: id, CustomerID: id, Name: id}}
	var (
		status            string
		paused            bool
		staleSec, downSec int64
		lastSeen          sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT c.monitor_state, COALESCE(c.latest_report_id, 0), c.latest_received_at,
			COALESCE(cc.status, ''), COALESCE(cc.monitoring_paused, 0),
			COALESCE(cc.stale_threshold_seconds, 0), COALESCE(cc.down_threshold_seconds, 0)
		FROM customers c LEFT JOIN customer_configs cc ON cc.customer_id = c.id
		WHERE c.id = $1`+forUpdate, id).Scan(&n.watch.State, &n.watch.LastReportID, &lastSeen,
		&status, &paused, &staleSec, &downSec)
	if err != nil {
		return n, fmt.Errorf("read node state: %w", err)
	}
	n.blocked = status == hub.ConfigBlocked
	n.watch.Muted = n.blocked || paused
	n.watch.Thresholds = thresholds(staleSec, downSec).WithDefaults(defaults)
	if lastSeen.Valid {
		n.watch.LastSeen = fromMillis(lastSeen.Int64)
	}
	return n, nil
}

// thresholds converts stored threshold seconds; zero means "the default".
func thresholds(staleSec, downSec int64) hub.Thresholds {
	return hub.Thresholds{Stale: time.Duration(staleSec) * time.Second, Down: time.Duration(downSec) * time.Second}
}

// summaryColumns are the reports columns scanned by scanSummary, in order.
const summaryColumns = `r.id, r.received_at, r.reported_at, r.controller_version, r.controller_url,
	r.health, r.monitoring_enabled, r.hostname, r.cpu_percent, r.mem_percent, r.disk_percent,
	r.containers_total, r.containers_running, r.last_backup_at, r.last_backup_status,
	r.unread_metrics, r.check_problems`

// summaryDest returns scan destinations for summaryColumns and a function
// that finishes the summary after the scan.
func summaryDest(s *hub.ReportSummary) ([]any, func()) {
	var received int64
	var reported, lastBackup sql.NullInt64
	var unread int
	var checkProblems string
	dest := []any{&s.ReportID, &received, &reported, &s.ControllerVersion, &s.ControllerURL,
		&s.Health, &s.MonitoringEnabled, &s.Hostname, &s.CPUPercent, &s.MemPercent, &s.DiskPercent,
		&s.ContainersTotal, &s.ContainersRunning, &lastBackup, &s.LastBackupStatus, &unread, &checkProblems}
	return dest, func() {
		s.SetUnreadMetrics(unread)
		s.CheckProblems = hub.DecodeCheckProblems(checkProblems)
		// Values stored before the tolerant reader may be out of range;
		// no stored value may make a read fail.
		s.CPUPercent, s.MemPercent, s.DiskPercent = finitePercent(s.CPUPercent), finitePercent(s.MemPercent), finitePercent(s.DiskPercent)
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
	var keyframeID sql.NullInt64
	var problems string
	dest = append(dest, &stored, &keyframeID, &problems)
	err := db.read.QueryRowContext(ctx, `SELECT `+summaryColumns+`, COALESCE(b.body, r.body), b.keyframe_id, r.problems
		FROM customers c JOIN reports r ON r.id = c.latest_report_id
			LEFT JOIN report_bodies b ON b.report_id = r.id
		WHERE c.id = $1`, customerID).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no report", customerID)
	} else if err != nil {
		return nil, fmt.Errorf("find latest report: %w", err)
	}
	finish()
	out.Problems = hub.ParseFieldProblems(problems)
	// A latest report always stands alone (the compactor leaves it so), but
	// a delta would be read just as well.
	if out.Body, err = db.loadBody(ctx, stored, keyframeID); err != nil {
		return nil, err
	}
	return &out, nil
}

// finitePercent returns p clamped into 0..100; NaN is 0.
func finitePercent(p float64) float64 {
	if math.IsNaN(p) {
		return 0
	}
	return min(max(p, 0), 100)
}
