package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.NoiseService = (*DB)(nil)

// maxListedCustomers caps the customer lists a fleet event's details hold;
// the rest is counted.
const maxListedCustomers = 100

// Names the noise checks lock under in PostgreSQL, with the customers'
// advisory lock class: a customer id never holds a space.
const (
	lockNameIncident = "fleet incident"
	lockNameFlapping = "flapping"
)

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// flapTypes are the transition types counted per kind.
var flapTypes = map[hub.WatchKind][2]string{
	hub.WatchNode: {hub.EventNodeStale, hub.EventNodeRecovered},
	hub.WatchHost: {hub.EventHostStale, hub.EventHostRecovered},
}

func flapKind(eventType string) hub.WatchKind {
	if eventType == hub.EventHostStale || eventType == hub.EventHostRecovered {
		return hub.WatchHost
	}
	return hub.WatchNode
}

// loadNoise reads what noise control knows about the event being
// dispatched into st.Noise, inside the dispatch transaction.
func loadNoise(ctx context.Context, tx *sql.Tx, st *hub.NotificationState, customerID string, eventID int64) error {
	if eventID == 0 {
		return nil // a legacy relay: the operator's, never held back
	}
	var (
		typ, subject string
		occurred     int64
	)
	err := tx.QueryRowContext(ctx, `SELECT event_type, COALESCE(subject_id, ''), occurred_at FROM events WHERE id = $1`,
		eventID).Scan(&typ, &subject, &occurred)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read event %d: %w", eventID, err)
	}
	n := &st.Noise
	if hub.FlapTransitionType(typ) && subject != "" {
		kind := flapKind(typ)
		types := flapTypes[kind]
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events
			WHERE subject_id = $1 AND event_type IN ($2, $3) AND occurred_at > $4 AND occurred_at <= $5 AND id <= $6`,
			subject, types[0], types[1], occurred-hub.FlapPeriod.Milliseconds(), occurred, eventID).Scan(&n.Transitions); err != nil {
			return fmt.Errorf("count transitions: %w", err)
		}
		var open int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM flap_episodes
			WHERE kind = $1 AND subject_id = $2 AND ended_at IS NULL`, string(kind), subject).Scan(&open)
		if err != nil {
			return fmt.Errorf("find flapping: %w", err)
		}
		n.Flapping = open > 0
	}
	if typ == hub.EventNodeStale || typ == hub.EventNodeDown {
		if n.HostDown, err = controllerHostDown(ctx, tx, customerID); err != nil {
			return err
		}
	}
	if typ == hub.EventNodeStale || typ == hub.EventNodeDown || typ == hub.EventNodeRecovered {
		// A recovery at the very time the incident resolves is still its
		// own (the last member back resolves it); a stale or down alert
		// then is the normal alert of a member still silent.
		until := occurred + 1
		if typ == hub.EventNodeRecovered {
			until = occurred
		}
		err := tx.QueryRowContext(ctx, `SELECT m.incident_id FROM fleet_incident_members m
			JOIN fleet_incidents i ON i.id = m.incident_id
			WHERE m.customer_id = $1 AND m.joined_at <= $2 AND (i.resolved_at IS NULL OR i.resolved_at >= $3)
			ORDER BY m.incident_id DESC LIMIT 1`, customerID, occurred, until).Scan(&n.Incident)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find incident: %w", err)
		}
	}
	if customerID != "" {
		var (
			id, logID int64
			items     string
		)
		err := tx.QueryRowContext(ctx, `SELECT id, log_id, digest FROM notification_outbox
			WHERE customer_id = $1 AND channel = $2 AND digest IS NOT NULL AND state = 'pending'
				AND attempts = 0 AND lease_owner IS NULL AND next_attempt_at > $3
			ORDER BY id DESC LIMIT 1`, customerID, hub.ChannelCustomer, millis(st.Now)).Scan(&id, &logID, &items)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("find held digest: %w", err)
		default:
			held := &hub.HeldDigest{OutboxID: id, LogID: logID}
			if err := json.Unmarshal([]byte(items), &held.Items); err != nil {
				return fmt.Errorf("decode held digest %d: %w", id, err)
			}
			n.Digest = held
		}
	}
	return nil
}

// controllerHostDown returns the hostname of the customer's stale or down
// host that carries its controller: a host with a controller guest, or,
// when no host of the customer reports one (an older agent), any host.
func controllerHostDown(ctx context.Context, tx *sql.Tx, customerID string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT h.id, h.hostname, h.monitor_state,
			CASE WHEN EXISTS (SELECT 1 FROM guests g WHERE g.host_id = h.id AND g.controller_version <> '')
				THEN 1 ELSE 0 END
		FROM hosts h WHERE h.customer_id = $1 ORDER BY h.id`, customerID)
	if err != nil {
		return "", fmt.Errorf("find hosts: %w", err)
	}
	defer rows.Close()
	var withController, without string
	anyController := false
	for rows.Next() {
		var id, hostname, state string
		var controller int
		if err := rows.Scan(&id, &hostname, &state, &controller); err != nil {
			return "", fmt.Errorf("scan host: %w", err)
		}
		anyController = anyController || controller == 1
		if state != string(hub.StateStale) && state != string(hub.StateDown) {
			continue
		}
		if controller == 1 && withController == "" {
			withController = hostName(id, hostname)
		} else if without == "" {
			without = hostName(id, hostname)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if anyController {
		return withController, nil
	}
	return without, nil
}

// heldDigest is the digest column of a queued mail: its one item when the
// mail is held for the digest window, NULL otherwise.
func heldDigest(p *hub.PlannedNotification) (sql.NullString, error) {
	if p.Hold <= 0 || p.Digest == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal([]hub.DigestItem{*p.Digest})
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode digest: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// foldDigest finishes a skipped decision: a mail folded into a held digest
// rewrites that mail (still unclaimed, or the dispatch is retried), and
// starts its cooldown.
func foldDigest(ctx context.Context, tx *sql.Tx, customerID string, p *hub.PlannedNotification, now time.Time) error {
	if f := p.Fold; f != nil && f.Email != nil {
		items, err := json.Marshal(f.Items)
		if err != nil {
			return fmt.Errorf("encode digest: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE notification_outbox
			SET subject = $1, text_body = $2, html_body = $3, digest = $4
			WHERE id = $5 AND customer_id = $6 AND digest IS NOT NULL AND state = 'pending'
				AND attempts = 0 AND lease_owner IS NULL`,
			f.Email.Subject, f.Email.Text, f.Email.HTML, string(items), f.OutboxID, customerID)
		if err != nil {
			return fmt.Errorf("fold into digest: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hub.Errorf(hub.ECONFLICT, "the digest mail %d was claimed while a mail was folded into it; the event is decided again", f.OutboxID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notification_log SET subject = $1, updated_at = $2 WHERE id = $3`,
			f.Email.Subject, millis(now), f.LogID); err != nil {
			return fmt.Errorf("update digest log: %w", err)
		}
	}
	return storeCooldown(ctx, tx, customerID, p, now)
}

// incidentNode is a node as the incident check reads it.
type incidentNode struct {
	id               string
	state            hub.MonitorState
	changed          int64
	deadline         int64
	lastSeen         int64
	lastReportID     int64
	staleSec         int64
	paused, disabled bool
	blocked          bool
}

// CheckFleetIncident opens, grows and resolves the fleet incident in one
// transaction. The nodes counted as going stale within the window are
// those that did (stale or down since the window began) and those that
// will unless they report (up, with their stale deadline within lookAhead): an outage silences nodes at once, and they cross the stale
// threshold one by one as their last reports age, so counting only those
// past it would mail the first ones before the incident is seen. At least
// one must be stale or due now.
func (db *DB) CheckFleetIncident(ctx context.Context, now time.Time, rule hub.IncidentRule) ([]*hub.Event, error) {
	if rule.Fraction <= 0 || rule.Window <= 0 {
		return nil, nil
	}
	var stored []*hub.Event
	err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		stored = stored[:0]
		if err := db.dialect.lockCustomer(ctx, tx, lockNameIncident); err != nil {
			return err
		}
		var (
			id                 int64
			opened, reporting  int64
			back               int
			lastReturn         sql.NullInt64
			open               = true
			nowMs, windowStart = millis(now), millis(now.Add(-rule.Window))
		)
		err := tx.QueryRowContext(ctx, `SELECT id, opened_at, reporting, back, last_return_at
			FROM fleet_incidents WHERE resolved_at IS NULL`).Scan(&id, &opened, &reporting, &back, &lastReturn)
		if errors.Is(err, sql.ErrNoRows) {
			open = false
		} else if err != nil {
			return fmt.Errorf("find open incident: %w", err)
		}
		nodes, err := incidentNodes(ctx, tx)
		if err != nil {
			return err
		}
		// Nodes going stale: since the window began, or since the open
		// incident began (they join it).
		since := windowStart
		if open {
			since = min(since, opened)
		}
		var silent []string
		seen, dueNow := 0, 0
		for _, n := range nodes {
			if n.blocked || n.paused || n.disabled {
				continue
			}
			switch n.state {
			case hub.StateUp:
				seen++
				if n.deadline != 0 && n.deadline < nowMs+db.lookAhead(n, rule).Milliseconds() {
					silent = append(silent, n.id)
					if n.deadline <= nowMs {
						dueNow++
					}
				}
			case hub.StateStale, hub.StateDown:
				if n.changed >= since {
					seen++
					silent = append(silent, n.id)
					dueNow++
				}
			}
		}
		if !open {
			if dueNow == 0 || !rule.Opens(len(silent), seen) {
				return nil
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO fleet_incidents (opened_at, reporting) VALUES ($1, $2)
				ON CONFLICT DO NOTHING RETURNING id`, nowMs, seen).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // another hub opened it
			} else if err != nil {
				return fmt.Errorf("open incident: %w", err)
			}
			if err := addIncidentMembers(ctx, tx, id, silent, nowMs); err != nil {
				return err
			}
			e := fleetIncidentEvent(id, silent, seen, rule.Window, now)
			ok, err := insertEvent(ctx, tx, e, now)
			if err != nil {
				return err
			}
			if ok {
				stored = append(stored, e)
			}
			return nil
		}
		if err := addIncidentMembers(ctx, tx, id, silent, nowMs); err != nil {
			return err
		}
		members, err := incidentMembers(ctx, tx, id)
		if err != nil {
			return err
		}
		nowBack := 0
		for _, m := range members {
			if m.back {
				nowBack++
			}
		}
		if nowBack > back {
			lastReturn = sql.NullInt64{Int64: nowMs, Valid: true}
		}
		last := time.Time{}
		if lastReturn.Valid {
			last = fromMillis(lastReturn.Int64)
		}
		if !rule.Resolves(len(members), nowBack, last, now) {
			if _, err := tx.ExecContext(ctx, `UPDATE fleet_incidents SET back = $1, last_return_at = $2 WHERE id = $3`,
				nowBack, lastReturn, id); err != nil {
				return fmt.Errorf("update incident: %w", err)
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fleet_incidents SET back = $1, last_return_at = $2, resolved_at = $3 WHERE id = $4`,
			nowBack, lastReturn, nowMs, id); err != nil {
			return fmt.Errorf("resolve incident: %w", err)
		}
		events := db.incidentResolvedEvents(id, members, fromMillis(opened), now)
		for _, e := range events {
			ok, err := insertEvent(ctx, tx, e, now)
			if err != nil {
				return err
			}
			if ok {
				stored = append(stored, e)
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

// incidentNodes reads every node that has reported since monitoring
// started, with what mutes it.
func incidentNodes(ctx context.Context, tx *sql.Tx) ([]incidentNode, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.monitor_state, COALESCE(c.state_changed_at, 0),
			COALESCE(c.next_deadline, 0), COALESCE(c.latest_received_at, 0), COALESCE(c.latest_report_id, 0),
			COALESCE(cc.status, ''), COALESCE(cc.monitoring_paused, 0), COALESCE(r.monitoring_enabled, 1),
			COALESCE(cc.stale_threshold_seconds, 0)
		FROM customers c
		LEFT JOIN customer_configs cc ON cc.customer_id = c.id
		LEFT JOIN reports r ON r.id = c.latest_report_id
		WHERE c.monitor_state <> 'unknown'`)
	if err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	defer rows.Close()
	var out []incidentNode
	for rows.Next() {
		var n incidentNode
		var status string
		var enabled bool
		if err := rows.Scan(&n.id, &n.state, &n.changed, &n.deadline, &n.lastSeen, &n.lastReportID,
			&status, &n.paused, &enabled, &n.staleSec); err != nil {
			return nil, fmt.Errorf("scan node: %w", err)
		}
		n.blocked, n.disabled = status == hub.ConfigBlocked, !enabled
		out = append(out, n)
	}
	return out, rows.Err()
}

// lookAhead is how far ahead of now a node that is still up counts as
// going stale: the incident window, but at most a third of the node's
// stale threshold, so that a node reporting on time (its deadline at
// least two thirds of the threshold away) never counts, however short the
// threshold.
func (db *DB) lookAhead(n incidentNode, rule hub.IncidentRule) time.Duration {
	stale := thresholds(n.staleSec, 0).WithDefaults(db.Thresholds).Stale
	return min(rule.Window, stale/3)
}

func addIncidentMembers(ctx context.Context, tx *sql.Tx, id int64, customers []string, at int64) error {
	for _, c := range customers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO fleet_incident_members (incident_id, customer_id, joined_at)
			VALUES ($1, $2, $3) ON CONFLICT (incident_id, customer_id) DO NOTHING`, id, c, at); err != nil {
			return fmt.Errorf("add incident member: %w", err)
		}
	}
	return nil
}

// incidentMember is a node of an incident and where it stands now.
type incidentMember struct {
	customerID   string
	back         bool
	state        hub.MonitorState
	lastSeen     int64
	lastReportID int64
}

// incidentMembers reads an incident's nodes, sorted by customer id. A
// member is back when it has reported since it joined; a customer deleted
// meanwhile counts as back (there is nothing left to alert about).
func incidentMembers(ctx context.Context, tx *sql.Tx, id int64) ([]incidentMember, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.customer_id, COALESCE(c.monitor_state, ''),
			COALESCE(c.latest_received_at, 0), COALESCE(c.latest_report_id, 0), m.joined_at,
			CASE WHEN c.id IS NULL THEN 1 ELSE 0 END
		FROM fleet_incident_members m LEFT JOIN customers c ON c.id = m.customer_id
		WHERE m.incident_id = $1 ORDER BY m.customer_id`, id)
	if err != nil {
		return nil, fmt.Errorf("read incident members: %w", err)
	}
	defer rows.Close()
	var out []incidentMember
	for rows.Next() {
		var m incidentMember
		var joined int64
		var gone int
		if err := rows.Scan(&m.customerID, &m.state, &m.lastSeen, &m.lastReportID, &joined, &gone); err != nil {
			return nil, fmt.Errorf("scan incident member: %w", err)
		}
		m.back = gone == 1 || (m.state == hub.StateUp && m.lastSeen > joined)
		out = append(out, m)
	}
	return out, rows.Err()
}

// listed returns up to maxListedCustomers of ids, sorted, and how many
// more there are.
func listed(ids []string) ([]string, int) {
	ids = append([]string(nil), ids...)
	sort.Strings(ids)
	if len(ids) > maxListedCustomers {
		return ids[:maxListedCustomers], len(ids) - maxListedCustomers
	}
	return ids, 0
}

func fleetIncidentEvent(id int64, silent []string, reporting int, window time.Duration, now time.Time) *hub.Event {
	customers, more := listed(silent)
	details, _ := json.Marshal(map[string]any{ // strings and numbers always encode
		"incident_id": id, "nodes": len(silent), "reporting": reporting,
		"window": hub.FormatDuration(window), "customers": customers, "more_customers": more,
	})
	return &hub.Event{
		Type:     hub.EventFleetIncident,
		Severity: hub.SeverityError,
		Source:   hub.SourceHub,
		Message: fmt.Sprintf("%d of %d reporting nodes went stale within %s: an upstream outage (the hub's ingress, DNS or an ISP), not %d separate failures",
			len(silent), reporting, hub.FormatDuration(window), len(silent)),
		Details:    details,
		OccurredAt: now,
		DedupeKey:  fmt.Sprintf("%s:%d", hub.EventFleetIncident, id),
	}
}

// incidentResolvedEvents are the events of an incident's end: its summary,
// and the normal alert of each member still stale or down, which its own
// alerts held back during the incident.
func (db *DB) incidentResolvedEvents(id int64, members []incidentMember, opened, now time.Time) []*hub.Event {
	var silent []string
	var alerts []*hub.Event
	back := 0
	for _, m := range members {
		if m.back {
			back++
			continue
		}
		silent = append(silent, m.customerID)
		if m.state != hub.StateStale && m.state != hub.StateDown {
			continue // not stale yet: the checker alerts it as usual
		}
		w := hub.Watch{Kind: hub.WatchNode, ID: m.customerID, CustomerID: m.customerID, Name: m.customerID,
			State: m.state, LastReportID: m.lastReportID, LastSeen: fromMillis(m.lastSeen), Thresholds: db.Thresholds}
		e := hub.NewWatchEvent(w, m.state, now, m.lastReportID)
		e.Message += " (held back during the fleet incident that has ended)"
		e.DedupeKey += fmt.Sprintf(":incident-%d", id)
		alerts = append(alerts, e)
	}
	still, more := listed(silent)
	details, _ := json.Marshal(map[string]any{
		"incident_id": id, "nodes": len(members), "back": back, "still_silent": still, "more_still_silent": more,
		"duration": hub.FormatDuration(now.Sub(opened)),
	})
	summary := &hub.Event{
		Type:     hub.EventFleetIncidentResolved,
		Severity: hub.SeverityInfo,
		Source:   hub.SourceHub,
		Message: fmt.Sprintf("reporting resumed after %s: %d of %d nodes are back, %d still silent",
			hub.FormatDuration(now.Sub(opened)), back, len(members), len(silent)),
		Details:    details,
		OccurredAt: now,
		DedupeKey:  fmt.Sprintf("%s:%d", hub.EventFleetIncidentResolved, id),
	}
	return append([]*hub.Event{summary}, alerts...)
}

// CheckFlapping opens and ends flapping episodes in one transaction.
func (db *DB) CheckFlapping(ctx context.Context, now time.Time, threshold int) ([]*hub.Event, error) {
	if threshold <= 0 {
		return nil, nil
	}
	var stored []*hub.Event
	err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		stored = stored[:0]
		if err := db.dialect.lockCustomer(ctx, tx, lockNameFlapping); err != nil {
			return err
		}
		add := func(e *hub.Event) error {
			ok, err := insertEvent(ctx, tx, e, now)
			if ok {
				stored = append(stored, e)
			}
			return err
		}
		starts, err := flappingSubjects(ctx, tx, now, threshold)
		if err != nil {
			return err
		}
		for _, f := range starts {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO flap_episodes (kind, subject_id, customer_id, name, started_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id`,
				string(f.Kind), f.ID, f.CustomerID, f.Name, millis(now)).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				continue // open already
			} else if err != nil {
				return fmt.Errorf("open flapping episode: %w", err)
			}
			if err := add(flapEvent(f, id, "started", "", now)); err != nil {
				return err
			}
		}
		ends, err := steadyEpisodes(ctx, tx, now)
		if err != nil {
			return err
		}
		for _, f := range ends {
			if _, err := tx.ExecContext(ctx, `UPDATE flap_episodes SET ended_at = $1 WHERE id = $2`, millis(now), f.episode); err != nil {
				return fmt.Errorf("end flapping episode: %w", err)
			}
			if err := add(flapEvent(&f.FlappingNode, f.episode, "ended", f.state, now)); err != nil {
				return err
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

// flappingSubjects returns the nodes and hosts with at least threshold
// transitions in the FlapPeriod before now and no open episode.
func flappingSubjects(ctx context.Context, tx *sql.Tx, now time.Time, threshold int) ([]*hub.FlappingNode, error) {
	since := millis(now.Add(-hub.FlapPeriod))
	rows, err := tx.QueryContext(ctx, `SELECT e.subject_id,
			CASE WHEN e.event_type IN ('host_stale', 'host_recovered') THEN 'host' ELSE 'node' END,
			MIN(COALESCE(e.customer_id, '')), COUNT(*)
		FROM events e
		WHERE e.received_at > $1 AND e.occurred_at > $1 AND e.occurred_at <= $2 AND e.subject_id IS NOT NULL
			AND e.event_type IN ('node_stale', 'node_recovered', 'host_stale', 'host_recovered')
		GROUP BY 1, 2 HAVING COUNT(*) >= $3`, since, millis(now), threshold)
	if err != nil {
		return nil, fmt.Errorf("count transitions: %w", err)
	}
	var out []*hub.FlappingNode
	for rows.Next() {
		f := &hub.FlappingNode{}
		if err := rows.Scan(&f.ID, &f.Kind, &f.CustomerID, &f.Transitions); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan transitions: %w", err)
		}
		out = append(out, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, f := range out {
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM flap_episodes WHERE kind = $1 AND subject_id = $2 AND ended_at IS NULL`,
			string(f.Kind), f.ID).Scan(&open); err != nil {
			return nil, fmt.Errorf("find episode: %w", err)
		}
		if open > 0 {
			continue
		}
		f.Name = f.ID
		if f.Kind == hub.WatchHost {
			var hostname string
			err := tx.QueryRowContext(ctx, `SELECT hostname FROM hosts WHERE id = $1`, f.ID).Scan(&hostname)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("find host: %w", err)
			}
			f.Name = hostName(f.ID, hostname)
		}
		kept = append(kept, f)
	}
	sort.Slice(kept, func(i, j int) bool { return string(kept[i].Kind)+kept[i].ID < string(kept[j].Kind)+kept[j].ID })
	return kept, nil
}

// steadyEpisode is an open episode whose subject has been steady for the
// FlapPeriod.
type steadyEpisode struct {
	hub.FlappingNode
	episode int64
	state   hub.MonitorState
}

// steadyEpisodes returns the open episodes to end, with the transitions
// of each since the hour before it began and the subject's state now.
func steadyEpisodes(ctx context.Context, tx *sql.Tx, now time.Time) ([]steadyEpisode, error) {
	open, err := openEpisodes(ctx, tx)
	if err != nil {
		return nil, err
	}
	var out []steadyEpisode
	for _, f := range open {
		types := flapTypes[f.Kind]
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(occurred_at) FROM events WHERE subject_id = $1 AND event_type IN ($2, $3)`,
			f.ID, types[0], types[1]).Scan(&last); err != nil {
			return nil, fmt.Errorf("find last transition: %w", err)
		}
		if last.Valid && fromMillis(last.Int64).After(now.Add(-hub.FlapPeriod)) {
			continue
		}
		s := steadyEpisode{FlappingNode: *f.FlappingNode, episode: f.episode}
		q := `SELECT monitor_state FROM customers WHERE id = $1`
		if f.Kind == hub.WatchHost {
			q = `SELECT monitor_state FROM hosts WHERE id = $1`
		}
		if err := tx.QueryRowContext(ctx, q, f.ID).Scan(&s.state); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find state: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// openEpisode is an open flapping episode with its id.
type openEpisode struct {
	*hub.FlappingNode
	episode int64
}

// openEpisodes reads the open flapping episodes, newest first, each with
// its transitions since the FlapPeriod before it began.
func openEpisodes(ctx context.Context, tx rowsQueryer) ([]openEpisode, error) {
	rows, err := tx.QueryContext(ctx, `SELECT f.id, f.kind, f.subject_id, f.customer_id, f.name, f.started_at,
			(SELECT COUNT(*) FROM events e WHERE e.subject_id = f.subject_id
				AND e.event_type IN ('node_stale', 'node_recovered', 'host_stale', 'host_recovered')
				AND e.occurred_at > f.started_at - $1)
		FROM flap_episodes f WHERE f.ended_at IS NULL ORDER BY f.started_at DESC, f.id DESC`, hub.FlapPeriod.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("find flapping: %w", err)
	}
	defer rows.Close()
	var out []openEpisode
	for rows.Next() {
		f := openEpisode{FlappingNode: &hub.FlappingNode{}}
		var started int64
		if err := rows.Scan(&f.episode, &f.Kind, &f.ID, &f.CustomerID, &f.Name, &started, &f.Transitions); err != nil {
			return nil, fmt.Errorf("scan flapping: %w", err)
		}
		f.Since = fromMillis(started)
		out = append(out, f)
	}
	return out, rows.Err()
}

// flapEvent is the node_flapping event of an episode starting or ending.
func flapEvent(f *hub.FlappingNode, episode int64, phase string, state hub.MonitorState, now time.Time) *hub.Event {
	details := map[string]any{"phase": phase, "kind": string(f.Kind), "transitions": f.Transitions,
		"episode_id": episode}
	what := string(f.Kind) + " " + f.Name
	msg := fmt.Sprintf("%s went stale and came back %d times within %s: flapping", what, f.Transitions, hub.FormatDuration(hub.FlapPeriod))
	severity := hub.SeverityWarning
	if phase == "ended" {
		details["state"] = string(state)
		details["started_at"] = f.Since.Format(time.RFC3339)
		msg = fmt.Sprintf("%s has been steady for %s after flapping (%d transitions); it is %s now",
			what, hub.FormatDuration(hub.FlapPeriod), f.Transitions, state)
		severity = hub.SeverityInfo
	}
	if f.Kind == hub.WatchHost {
		details["host_id"], details["hostname"] = f.ID, f.Name
	}
	body, _ := json.Marshal(details) // strings and numbers always encode
	return &hub.Event{
		CustomerID: f.CustomerID,
		Type:       hub.EventNodeFlapping,
		Severity:   severity,
		Source:     hub.SourceHub,
		Message:    msg,
		Details:    body,
		OccurredAt: now,
		DedupeKey:  fmt.Sprintf("%s:%s:%s:%d:%s", hub.EventNodeFlapping, f.Kind, f.ID, episode, phase),
	}
}

// FindOpenIncidents returns the open fleet incidents with their members.
func (db *DB) FindOpenIncidents(ctx context.Context) ([]*hub.FleetIncident, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, opened_at, reporting, back FROM fleet_incidents
		WHERE resolved_at IS NULL ORDER BY opened_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("find incidents: %w", err)
	}
	out := []*hub.FleetIncident{}
	for rows.Next() {
		var i hub.FleetIncident
		var opened int64
		if err := rows.Scan(&i.ID, &opened, &i.Reporting, &i.Back); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan incident: %w", err)
		}
		i.OpenedAt, i.Members = fromMillis(opened), []string{}
		out = append(out, &i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, i := range out {
		members, err := db.read.QueryContext(ctx, `SELECT customer_id FROM fleet_incident_members
			WHERE incident_id = $1 ORDER BY customer_id`, i.ID)
		if err != nil {
			return nil, fmt.Errorf("find incident members: %w", err)
		}
		for members.Next() {
			var c string
			if err := members.Scan(&c); err != nil {
				members.Close()
				return nil, fmt.Errorf("scan incident member: %w", err)
			}
			i.Members = append(i.Members, c)
		}
		members.Close()
		if err := members.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FindFlapping returns the nodes and hosts in an open flapping episode.
func (db *DB) FindFlapping(ctx context.Context) ([]*hub.FlappingNode, error) {
	open, err := openEpisodes(ctx, db.read)
	if err != nil {
		return nil, err
	}
	out := make([]*hub.FlappingNode, 0, len(open))
	for _, f := range open {
		out = append(out, f.FlappingNode)
	}
	return out, nil
}

// rowsQueryer runs queries: a *sql.DB or a *sql.Tx.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
