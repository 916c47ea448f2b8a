package store

import (
	"context"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.BackupCheckService = (*DB)(nil)

// FindNodesMissingEvent returns the active nodes with no event of eventType
// since the given time, by id.
func (db *DB) FindNodesMissingEvent(ctx context.Context, eventType string, since time.Time) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT c.id FROM customers c
		JOIN reports r ON r.id = c.latest_report_id
		LEFT JOIN customer_configs cc ON cc.customer_id = c.id
		WHERE c.created_at < $1
			AND c.monitor_state IN ('up', 'stale')
			AND COALESCE(cc.status, '') <> 'blocked'
			AND COALESCE(cc.monitoring_paused, 0) = 0
			AND r.monitoring_enabled = 1
			AND NOT EXISTS (SELECT 1 FROM events e
				WHERE e.customer_id = c.id AND e.event_type = $2 AND e.occurred_at >= $1)
		ORDER BY c.id`, millis(since), eventType)
	if err != nil {
		return nil, fmt.Errorf("find nodes missing %s: %w", eventType, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan node: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
