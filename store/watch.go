package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.WatchService = (*DB)(nil)

// watchTable holds the SQL of one watched kind. Every kind keeps the same
// columns: monitor_state, state_changed_at, next_deadline, a latest report
// id and its received time.
type watchTable struct {
	// selectDue reads the watches whose deadline is before $1, up to $2
	// rows; its columns are those scanWatch reads.
	selectDue string
	// update is the compare-and-set: state, deadline, change time (kept
	// when the state stays), id, old state, old report id.
	update string
	// credit moves deadlines by the silence within an outage [from, to):
	// $1 is to, $2 from.
	credit string
	// defaults returns the hub-wide thresholds of the kind.
	defaults func(db *DB) hub.Thresholds
}

var watchTables = map[hub.WatchKind]watchTable{
	hub.WatchNode: {
		selectDue: `SELECT c.id, c.id, '', c.monitor_state, COALESCE(c.latest_report_id, 0),
				COALESCE(c.latest_received_at, 0), c.next_deadline,
				COALESCE(cc.status, ''), COALESCE(cc.monitoring_paused, 0),
				COALESCE(cc.stale_threshold_seconds, 0), COALESCE(cc.down_threshold_seconds, 0),
				COALESCE(r.monitoring_enabled, 1)
			FROM customers c
			LEFT JOIN customer_configs cc ON cc.customer_id = c.id
			LEFT JOIN reports r ON r.id = c.latest_report_id
			WHERE c.next_deadline < $1
			ORDER BY c.next_deadline, c.id LIMIT $2`,
		update: `UPDATE customers SET monitor_state = $1, next_deadline = $2,
				state_changed_at = CASE WHEN monitor_state = $1 THEN state_changed_at ELSE $3 END
			WHERE id = $4 AND monitor_state = $5 AND COALESCE(latest_report_id, 0) = $6`,
		credit: `UPDATE customers SET next_deadline = next_deadline +
				($1 - CASE WHEN latest_received_at > $2 THEN latest_received_at ELSE $2 END)
			WHERE next_deadline IS NOT NULL AND latest_received_at < $1`,
		defaults: func(db *DB) hub.Thresholds { return db.Thresholds },
	},
	hub.WatchHost: {
		// Hosts have no threshold overrides and no DISABLED switch; a
		// blocked or paused customer mutes its hosts too.
		selectDue: `SELECT h.id, h.customer_id, h.hostname, h.monitor_state, COALESCE(h.latest_report_id, 0),
				COALESCE(h.last_report_at, 0), h.next_deadline,
				COALESCE(cc.status, ''), COALESCE(cc.monitoring_paused, 0), 0, 0, 1
			FROM hosts h
			LEFT JOIN customer_configs cc ON cc.customer_id = h.customer_id
			WHERE h.next_deadline < $1
			ORDER BY h.next_deadline, h.id LIMIT $2`,
		update: `UPDATE hosts SET monitor_state = $1, next_deadline = $2,
				state_changed_at = CASE WHEN monitor_state = $1 THEN state_changed_at ELSE $3 END
			WHERE id = $4 AND monitor_state = $5 AND COALESCE(latest_report_id, 0) = $6`,
		credit: `UPDATE hosts SET next_deadline = next_deadline +
				($1 - CASE WHEN last_report_at > $2 THEN last_report_at ELSE $2 END)
			WHERE next_deadline IS NOT NULL AND last_report_at < $1`,
		defaults: func(db *DB) hub.Thresholds { return db.HostThresholds },
	},
}

// watchKinds lists the kinds in a fixed order.
var watchKinds = []hub.WatchKind{hub.WatchNode, hub.WatchHost}

// FindDueWatches returns the watches of a kind whose deadline has passed.
// The deadline index makes a pass with nothing due read almost nothing.
func (db *DB) FindDueWatches(ctx context.Context, kind hub.WatchKind, now time.Time, limit int) ([]hub.Watch, error) {
	t, ok := watchTables[kind]
	if !ok {
		return nil, fmt.Errorf("find due watches: unknown kind %q", kind)
	}
	rows, err := db.read.QueryContext(ctx, t.selectDue, millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("find due %ss: %w", kind, err)
	}
	defer rows.Close()
	defaults := t.defaults(db)
	var out []hub.Watch
	for rows.Next() {
		w := hub.Watch{Kind: kind}
		var (
			hostname          string
			lastSeen          int64
			deadline          int64
			status            string
			paused, enabled   bool
			staleSec, downSec int64
		)
		if err := rows.Scan(&w.ID, &w.CustomerID, &hostname, &w.State, &w.LastReportID, &lastSeen,
			&deadline, &status, &paused, &staleSec, &downSec, &enabled); err != nil {
			return nil, fmt.Errorf("scan due %s: %w", kind, err)
		}
		w.Name = hostName(w.ID, hostname)
		w.LastSeen, w.NextDeadline = fromMillis(lastSeen), fromMillis(deadline)
		w.Thresholds = thresholds(staleSec, downSec).WithDefaults(defaults)
		w.Muted = status == hub.ConfigBlocked || paused || !enabled
		out = append(out, w)
	}
	return out, rows.Err()
}

// ApplyWatchUpdates applies the updates in one transaction. An update whose
// watch changed since it was read (a report arrived, another checker moved
// it) is skipped with its event; an event whose dedupe key exists is too.
func (db *DB) ApplyWatchUpdates(ctx context.Context, updates []hub.WatchUpdate) ([]*hub.Event, error) {
	var stored []*hub.Event
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		stored = stored[:0]
		for _, u := range updates {
			t, ok := watchTables[u.Watch.Kind]
			if !ok {
				return fmt.Errorf("apply watch update: unknown kind %q", u.Watch.Kind)
			}
			res, err := tx.ExecContext(ctx, t.update,
				u.State, nullMillis(u.NextDeadline), millis(now),
				u.Watch.ID, u.Watch.State, u.Watch.LastReportID)
			if err != nil {
				return fmt.Errorf("update %s %s: %w", u.Watch.Kind, u.Watch.ID, err)
			}
			n, _ := res.RowsAffected()
			if n > 0 && u.Watch.Kind == hub.WatchHost && u.State != u.Watch.State {
				// A host going down or coming back changes its customer's
				// fleet row ("host down").
				if err := touchCustomer(ctx, tx, u.Watch.CustomerID, now); err != nil {
					return err
				}
			}
			if n == 0 || u.Event == nil {
				continue
			}
			ok, err = insertEvent(ctx, tx, u.Event, now)
			if err != nil {
				return err
			}
			if ok {
				stored = append(stored, u.Event)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(stored) > 0 {
		db.eventsStored()
	}
	return stored, nil
}

// CreditOutage gives every watch back the silence the hub's own outage
// caused, and records the checker's run, in one transaction.
func (db *DB) CreditOutage(ctx context.Context, job string, from, to time.Time) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		f, t := millis(from), millis(to)
		for _, kind := range watchKinds {
			if _, err := tx.ExecContext(ctx, watchTables[kind].credit, t, f); err != nil {
				return fmt.Errorf("credit outage to %ss: %w", kind, err)
			}
		}
		return recordJobRun(ctx, tx, job, to)
	})
}
