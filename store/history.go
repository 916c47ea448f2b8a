package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	hub "github.com/felhom/hub"
)

var (
	_ hub.HistoryService     = (*DB)(nil)
	_ hub.HistoryMaintenance = (*DB)(nil)
)

// historyStream is one report stream whose history is tiered: its table,
// the table of its bodies, the column naming its subject, and the table
// whose latest_report_id marks the subject's latest report (kept forever).
type historyStream struct {
	name    string
	table   string
	bodies  string
	subject string
	owners  string
}

var (
	reportStream = historyStream{name: hub.StreamReports, table: "reports", bodies: "report_bodies",
		subject: "customer_id", owners: "customers"}
	hostReportStream = historyStream{name: hub.StreamHostReports, table: "host_reports", bodies: "host_report_bodies",
		subject: "host_id", owners: "hosts"}
	historyStreams = []historyStream{reportStream, hostReportStream}
)

// streamByName returns the stream of a hub.Stream* name.
func streamByName(name string) (historyStream, error) {
	for _, st := range historyStreams {
		if st.name == name {
			return st, nil
		}
	}
	return historyStream{}, hub.Errorf(hub.EINVALID, "unknown history stream %q", name)
}

// sql fills a query template's {stream}, {table}, {bodies}, {subject} and
// {owners}: the same hand-written SQL serves both streams.
func (st historyStream) sql(query string) string {
	return strings.NewReplacer("{stream}", st.name, "{table}", st.table, "{bodies}", st.bodies,
		"{subject}", st.subject, "{owners}", st.owners).Replace(query)
}

// emptyBody is what reports.body and host_reports.body hold once the body
// lives in its own table: an empty blob (a non-nil empty slice, which both
// drivers bind as a zero-length blob rather than NULL).
var emptyBody = []byte{}

// insertBody stores a new report's body, compressed on its own.
func insertBody(ctx context.Context, tx *sql.Tx, st historyStream, reportID int64, raw []byte) error {
	if _, err := tx.ExecContext(ctx, st.sql(`INSERT INTO {bodies} (report_id, body) VALUES ($1, $2)`),
		reportID, encodeBody(raw)); err != nil {
		return fmt.Errorf("insert report body: %w", err)
	}
	return nil
}

// FindMetrics returns a subject's points at one resolution since f.Since.
func (db *DB) FindMetrics(ctx context.Context, f hub.MetricFilter) ([]hub.MetricPoint, error) {
	st, err := streamByName(f.Stream)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	switch f.Resolution {
	case hub.ResolutionRaw:
		rows, err = db.read.QueryContext(ctx, st.sql(`SELECT received_at, id, 1,
				cpu_percent, cpu_percent, mem_percent, mem_percent, disk_percent, disk_percent,
				0, 0, 0, unread_metrics
			FROM {table} WHERE {subject} = $1 AND received_at >= $2
			ORDER BY received_at, id`), f.SubjectID, millis(f.Since))
	case hub.ResolutionHourly, hub.ResolutionDaily:
		since := f.Since.Truncate(hub.BucketSize(f.Resolution))
		rows, err = db.read.QueryContext(ctx, `SELECT bucket_start, 0, samples,
				cpu_sum, cpu_max, mem_sum, mem_max, disk_sum, disk_max,
				cpu_unread, mem_unread, disk_unread, 0
			FROM metric_rollups
			WHERE stream = $1 AND subject_id = $2 AND resolution = $3 AND bucket_start >= $4
			ORDER BY bucket_start`, st.name, f.SubjectID, f.Resolution, millis(since))
	default:
		return nil, hub.Errorf(hub.EINVALID, "resolution must be raw, hourly or daily")
	}
	if err != nil {
		return nil, fmt.Errorf("find metrics: %w", err)
	}
	defer rows.Close()
	out := []hub.MetricPoint{}
	for rows.Next() {
		var p hub.MetricPoint
		var at int64
		var cpuUnread, memUnread, diskUnread int
		if err := rows.Scan(&at, &p.ReportID, &p.Samples, &p.CPUAvg, &p.CPUMax, &p.MemAvg, &p.MemMax, &p.DiskAvg, &p.DiskMax,
			&cpuUnread, &memUnread, &diskUnread, &p.Unread); err != nil {
			return nil, fmt.Errorf("scan metrics: %w", err)
		}
		p.Time = fromMillis(at)
		if f.Resolution != hub.ResolutionRaw && p.Samples > 0 {
			// Rollups hold sums of the samples that were read (an unread
			// one adds 0); rounding hides float noise such as 33.333333333.
			avg := func(sum *float64, unread, bit int) {
				if n := p.Samples - unread; n > 0 {
					*sum = round2(*sum / float64(n))
				} else {
					*sum, p.Unread = 0, p.Unread|bit
				}
			}
			avg(&p.CPUAvg, cpuUnread, hub.UnreadCPU)
			avg(&p.MemAvg, memUnread, hub.UnreadMem)
			avg(&p.DiskAvg, diskUnread, hub.UnreadDisk)
		}
		// Rows stored before the tolerant reader may hold any number; no
		// stored value may make a history read fail.
		for _, v := range []*float64{&p.CPUAvg, &p.CPUMax, &p.MemAvg, &p.MemMax, &p.DiskAvg, &p.DiskMax} {
			*v = finitePercent(*v)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// FindArchivedReport returns a report of the subject with its body.
func (db *DB) FindArchivedReport(ctx context.Context, stream, subjectID string, reportID int64) (*hub.ArchivedReport, error) {
	st, err := streamByName(stream)
	if err != nil {
		return nil, err
	}
	var (
		received   int64
		stored     []byte
		keyframeID sql.NullInt64
	)
	err = db.read.QueryRowContext(ctx, st.sql(`SELECT r.received_at, COALESCE(b.body, r.body), b.keyframe_id
		FROM {table} r LEFT JOIN {bodies} b ON b.report_id = r.id
		WHERE r.id = $1 AND r.{subject} = $2`), reportID, subjectID).Scan(&received, &stored, &keyframeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "%s has no report %d", subjectID, reportID)
	} else if err != nil {
		return nil, fmt.Errorf("find report: %w", err)
	}
	if len(stored) == 0 {
		return nil, hub.Errorf(hub.ENOTFOUND, "the body of report %d is past retention.full_days; its metrics are kept", reportID)
	}
	body, err := db.loadBody(ctx, stored, keyframeID)
	if err != nil {
		return nil, err
	}
	return &hub.ArchivedReport{ID: reportID, SubjectID: subjectID, ReceivedAt: fromMillis(received), Body: body}, nil
}

// loadBody returns a stored body as the JSON received, reading its keyframe
// when it is a delta.
func (db *DB) loadBody(ctx context.Context, stored []byte, keyframeID sql.NullInt64) ([]byte, error) {
	if !keyframeID.Valid {
		return decodeBody(stored)
	}
	keyframe, err := db.keyframe(ctx, db.read, keyframeID.Int64)
	if err != nil {
		return nil, err
	}
	return decodeDelta(stored, keyframe)
}

// keyframe returns a keyframe's content.
func (db *DB) keyframe(ctx context.Context, q queryer, id int64) ([]byte, error) {
	var stored []byte
	if err := q.QueryRowContext(ctx, `SELECT body FROM body_keyframes WHERE id = $1`, id).Scan(&stored); err != nil {
		return nil, fmt.Errorf("read keyframe %d: %w", id, err)
	}
	return decodeBody(stored)
}
