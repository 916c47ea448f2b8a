package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.AlertService = (*DB)(nil)

// maxSilenceRows caps a silence list.
const maxSilenceRows = 1000

// silenceColumns are the silences columns scanSilence reads, in order.
const silenceColumns = `id, customer_id, host_id, event_types, starts_at, ends_at, reason,
	recurrence, author, created_at, ended_at, ended_by`

func scanSilence(row rowScanner) (*hub.Silence, error) {
	var (
		s                     hub.Silence
		types, recurrence     string
		starts, ends, created int64
		ended                 sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.CustomerID, &s.HostID, &types, &starts, &ends, &s.Reason,
		&recurrence, &s.Author, &created, &ended, &s.EndedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &s.EventTypes); err != nil {
		return nil, fmt.Errorf("decode event types of silence %d: %w", s.ID, err)
	}
	if recurrence != "" {
		s.Recurrence = &hub.Recurrence{}
		if err := json.Unmarshal([]byte(recurrence), s.Recurrence); err != nil {
			return nil, fmt.Errorf("decode recurrence of silence %d: %w", s.ID, err)
		}
	}
	s.StartsAt, s.EndsAt, s.CreatedAt = fromMillis(starts), fromMillis(ends), fromMillis(created)
	if ended.Valid {
		t := fromMillis(ended.Int64)
		s.EndedAt = &t
	}
	return &s, nil
}

// querySilences runs a silences query on q and scans every row.
func querySilences(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, query string, args ...any) ([]*hub.Silence, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find silences: %w", err)
	}
	defer rows.Close()
	out := []*hub.Silence{}
	for rows.Next() {
		s, err := scanSilence(rows)
		if err != nil {
			return nil, fmt.Errorf("scan silence: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CreateSilence stores a validated silence. A host's silence gets the
// host's customer.
func (db *DB) CreateSilence(ctx context.Context, s *hub.Silence) error {
	types, err := json.Marshal(nonNil(s.EventTypes))
	if err != nil {
		return fmt.Errorf("encode event types: %w", err)
	}
	recurrence := ""
	if s.Recurrence != nil {
		b, err := json.Marshal(s.Recurrence)
		if err != nil {
			return fmt.Errorf("encode recurrence: %w", err)
		}
		recurrence = string(b)
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if s.HostID != "" {
			var owner string
			err := tx.QueryRowContext(ctx, `SELECT customer_id FROM hosts WHERE id = $1`, s.HostID).Scan(&owner)
			if errors.Is(err, sql.ErrNoRows) {
				return hub.Errorf(hub.EINVALID, "host_id %s is unknown", s.HostID)
			} else if err != nil {
				return fmt.Errorf("find host: %w", err)
			}
			if s.CustomerID != "" && s.CustomerID != owner {
				return hub.Errorf(hub.EINVALID, "host_id %s belongs to another customer than customer_id %s", s.HostID, s.CustomerID)
			}
			s.CustomerID = owner
		} else if s.CustomerID != "" {
			var exists int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, s.CustomerID).Scan(&exists)
			if errors.Is(err, sql.ErrNoRows) {
				return hub.Errorf(hub.EINVALID, "customer_id %s is unknown", s.CustomerID)
			} else if err != nil {
				return fmt.Errorf("find customer: %w", err)
			}
		}
		s.CreatedAt = now
		if err := tx.QueryRowContext(ctx, `INSERT INTO silences (customer_id, host_id, event_types,
				starts_at, ends_at, reason, recurrence, author, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			s.CustomerID, s.HostID, string(types), millis(s.StartsAt), millis(s.EndsAt), s.Reason,
			recurrence, s.Author, millis(now)).Scan(&s.ID); err != nil {
			return fmt.Errorf("insert silence: %w", err)
		}
		return nil
	})
}

// FindSilenceByID returns a silence.
func (db *DB) FindSilenceByID(ctx context.Context, id int64) (*hub.Silence, error) {
	s, err := scanSilence(db.read.QueryRowContext(ctx, `SELECT `+silenceColumns+` FROM silences WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "silence %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find silence: %w", err)
	}
	return s, nil
}

// FindSilences returns silences, newest first. Whether a maintenance window
// is active or upcoming depends on the clock, so the state is decided here
// on the rows the query narrows down.
func (db *DB) FindSilences(ctx context.Context, f hub.SilenceFilter) ([]*hub.Silence, error) {
	now := db.Now().UTC()
	where, args := "1 = 1", []any{}
	if f.CustomerID != "" {
		args = append(args, f.CustomerID)
		where += " AND customer_id = " + placeholder(len(args))
	}
	if f.State == hub.SilenceActive || f.State == hub.SilenceUpcoming {
		args = append(args, millis(now))
		where += " AND ends_at > " + placeholder(len(args)) + " AND (ended_at IS NULL OR ended_at > " + placeholder(len(args)) + ")"
	}
	args = append(args, maxSilenceRows)
	all, err := querySilences(ctx, db.read, `SELECT `+silenceColumns+` FROM silences WHERE `+where+`
		ORDER BY id DESC LIMIT `+placeholder(len(args)), args...)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 || limit > maxSilenceRows {
		limit = maxSilenceRows
	}
	out := all[:0]
	for _, s := range all {
		if (f.State == "" || s.State(now) == f.State) && len(out) < limit {
			out = append(out, s)
		}
	}
	return out, nil
}

// EndSilence ends a silence now.
func (db *DB) EndSilence(ctx context.Context, id int64, by string) (*hub.Silence, error) {
	var out *hub.Silence
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		s, err := scanSilence(tx.QueryRowContext(ctx, `SELECT `+silenceColumns+` FROM silences WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.ENOTFOUND, "silence %d not found", id)
		} else if err != nil {
			return fmt.Errorf("find silence: %w", err)
		}
		if s.State(now) == hub.SilenceExpired {
			return hub.Errorf(hub.ECONFLICT, "silence %d is over already", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE silences SET ended_at = $1, ended_by = $2
			WHERE id = $3 AND ended_at IS NULL`, millis(now), by, id); err != nil {
			return fmt.Errorf("end silence: %w", err)
		}
		s.EndedAt, s.EndedBy = &now, by
		out = s
		return nil
	})
	return out, err
}

// openWatchQuery reads every node and host that is stale or down, with its
// alerting record when it has one.
const openWatchQuery = `SELECT 'node', c.id, c.id, c.id, c.monitor_state, COALESCE(c.state_changed_at, 0),
		COALESCE(c.latest_received_at, 0),
		CASE WHEN COALESCE(cc.status, '') = 'blocked' OR COALESCE(cc.monitoring_paused, 0) <> 0 THEN 1 ELSE 0 END,
		a.episode, COALESCE(a.muted_by, 0), COALESCE(a.followed_up_at, 0), COALESCE(a.acked_at, 0),
		COALESCE(a.acked_by, ''), COALESCE(a.ack_note, ''), COALESCE(a.reminders, 0), COALESCE(a.escalated_at, 0)
	FROM customers c
	LEFT JOIN customer_configs cc ON cc.customer_id = c.id
	LEFT JOIN alert_states a ON a.kind = 'node' AND a.watch_id = c.id
	WHERE c.monitor_state IN ('stale', 'down') %s
	UNION ALL
	SELECT 'host', h.id, h.customer_id, h.hostname, h.monitor_state, COALESCE(h.state_changed_at, 0),
		COALESCE(h.last_report_at, 0),
		CASE WHEN COALESCE(cc.status, '') = 'blocked' OR COALESCE(cc.monitoring_paused, 0) <> 0 THEN 1 ELSE 0 END,
		a.episode, COALESCE(a.muted_by, 0), COALESCE(a.followed_up_at, 0), COALESCE(a.acked_at, 0),
		COALESCE(a.acked_by, ''), COALESCE(a.ack_note, ''), COALESCE(a.reminders, 0), COALESCE(a.escalated_at, 0)
	FROM hosts h
	LEFT JOIN customer_configs cc ON cc.customer_id = h.customer_id
	LEFT JOIN alert_states a ON a.kind = 'host' AND a.watch_id = h.id
	WHERE h.monitor_state IN ('stale', 'down') %s`

// queryOpenProblems runs openWatchQuery on q, for one customer or (empty) all.
func queryOpenProblems(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, customerID string) ([]*hub.OpenProblem, error) {
	query, args := fmt.Sprintf(openWatchQuery, "", ""), []any{}
	if customerID != "" {
		query = fmt.Sprintf(openWatchQuery, "AND c.id = $1", "AND h.customer_id = $1")
		args = append(args, customerID)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find open problems: %w", err)
	}
	defer rows.Close()
	out := []*hub.OpenProblem{}
	for rows.Next() {
		var (
			p                                   hub.OpenProblem
			kind, state                         string
			since, seen, followed, acked, escal int64
			muted                               int
			episode                             sql.NullInt64
		)
		if err := rows.Scan(&kind, &p.WatchID, &p.CustomerID, &p.Name, &state, &since, &seen, &muted,
			&episode, &p.MutedBy, &followed, &acked, &p.AckedBy, &p.AckNote, &p.Reminders, &escal); err != nil {
			return nil, fmt.Errorf("scan open problem: %w", err)
		}
		p.Kind, p.State, p.Since, p.Muted = hub.WatchKind(kind), hub.MonitorState(state), fromMillis(since), muted != 0
		p.Episode = hub.EpisodeOf(fromMillis(seen))
		if episode.Valid && episode.Int64 == millis(p.Episode) {
			p.Stored = true
			p.FollowedUpAt, p.AckedAt, p.EscalatedAt = optMillis(followed), optMillis(acked), optMillis(escal)
		} else {
			// No record, or one of an earlier outage: this one starts afresh.
			p.MutedBy, p.AckedBy, p.AckNote, p.Reminders = 0, "", "", 0
		}
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.After(out[j].Since)
		}
		return out[i].WatchID < out[j].WatchID
	})
	return out, nil
}

// optMillis is a stored time where 0 means none.
func optMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// optToMillis stores a time where none is 0.
func optToMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return millis(t)
}

// FindOpenProblems returns every node and host that is stale or down,
// newest first.
func (db *DB) FindOpenProblems(ctx context.Context) ([]*hub.OpenProblem, error) {
	return queryOpenProblems(ctx, db.read, "")
}

// AcknowledgeCustomer acknowledges every open problem of a customer.
func (db *DB) AcknowledgeCustomer(ctx context.Context, customerID, by, note string) (*hub.Acknowledgement, error) {
	var ack *hub.Acknowledgement
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, customerID).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.ENOTFOUND, "customer %s not found", customerID)
		} else if err != nil {
			return fmt.Errorf("find customer: %w", err)
		}
		problems, err := queryOpenProblems(ctx, tx, customerID)
		if err != nil {
			return err
		}
		if len(problems) == 0 {
			return hub.Errorf(hub.ECONFLICT, "customer %s has no open problem to acknowledge: its node and hosts are reporting", customerID)
		}
		for _, p := range problems {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alert_states
					(kind, watch_id, customer_id, episode, acked_at, acked_by, ack_note)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (kind, watch_id) DO UPDATE SET
					customer_id = excluded.customer_id,
					muted_by = CASE WHEN alert_states.episode = excluded.episode THEN alert_states.muted_by ELSE 0 END,
					followed_up_at = CASE WHEN alert_states.episode = excluded.episode THEN alert_states.followed_up_at ELSE 0 END,
					reminders = CASE WHEN alert_states.episode = excluded.episode THEN alert_states.reminders ELSE 0 END,
					escalated_at = CASE WHEN alert_states.episode = excluded.episode THEN alert_states.escalated_at ELSE 0 END,
					acked_at = excluded.acked_at, acked_by = excluded.acked_by, ack_note = excluded.ack_note,
					episode = excluded.episode`,
				p.Kind, p.WatchID, p.CustomerID, millis(p.Episode), millis(now), by, note); err != nil {
				return fmt.Errorf("acknowledge %s %s: %w", p.Kind, p.WatchID, err)
			}
			p.AckedAt, p.AckedBy, p.AckNote, p.Stored = now, by, note, true
		}
		ack = &hub.Acknowledgement{CustomerID: customerID, Note: note, By: by, At: now, Problems: problems}
		return nil
	})
	return ack, err
}

// watchOpen reports whether a node or host is still stale or down in the
// outage of episode.
func watchOpen(ctx context.Context, tx *sql.Tx, kind hub.WatchKind, id string, episode time.Time) (bool, error) {
	query := `SELECT monitor_state, COALESCE(latest_received_at, 0) FROM customers WHERE id = $1`
	if kind == hub.WatchHost {
		query = `SELECT monitor_state, COALESCE(last_report_at, 0) FROM hosts WHERE id = $1`
	}
	var state string
	var seen int64
	err := tx.QueryRowContext(ctx, query, id).Scan(&state, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("find %s %s: %w", kind, id, err)
	}
	open := state == string(hub.StateStale) || state == string(hub.StateDown)
	return open && hub.EpisodeOf(fromMillis(seen)).Equal(episode), nil
}

// ApplyAlertActions applies each action with a compare-and-set on the
// problem's record (and on the node or host still being out in the same
// outage), storing its events in the same transaction: two replicas, or a
// pass repeated after a crash, apply an action once.
func (db *DB) ApplyAlertActions(ctx context.Context, actions []hub.AlertAction) ([]*hub.Event, error) {
	var stored []*hub.Event
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		stored = stored[:0]
		for _, a := range actions {
			ok, err := applyAlertAction(ctx, tx, a)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			for _, e := range a.Events {
				inserted, err := insertEvent(ctx, tx, e, now)
				if err != nil {
					return err
				}
				if inserted {
					stored = append(stored, e)
				}
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

// applyAlertAction writes one action's record; false when the record or
// the node changed since the pass read them.
func applyAlertAction(ctx context.Context, tx *sql.Tx, a hub.AlertAction) (bool, error) {
	p, u := a.Problem, a.Update
	open, err := watchOpen(ctx, tx, p.Kind, p.WatchID, p.Episode)
	if err != nil || !open {
		return false, err
	}
	var res sql.Result
	if p.Stored {
		res, err = tx.ExecContext(ctx, `UPDATE alert_states SET muted_by = $1, followed_up_at = $2,
				reminders = $3, escalated_at = $4
			WHERE kind = $5 AND watch_id = $6 AND episode = $7 AND muted_by = $8 AND followed_up_at = $9
				AND reminders = $10 AND escalated_at = $11 AND acked_at = $12`,
			u.MutedBy, optToMillis(u.FollowedUpAt), u.Reminders, optToMillis(u.EscalatedAt),
			p.Kind, p.WatchID, millis(p.Episode), p.MutedBy, optToMillis(p.FollowedUpAt),
			p.Reminders, optToMillis(p.EscalatedAt), optToMillis(p.AckedAt))
	} else {
		// A first record, or one that replaces an earlier outage's.
		res, err = tx.ExecContext(ctx, `INSERT INTO alert_states
				(kind, watch_id, customer_id, episode, muted_by, followed_up_at, reminders, escalated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (kind, watch_id) DO UPDATE SET customer_id = excluded.customer_id,
				episode = excluded.episode, muted_by = excluded.muted_by, followed_up_at = excluded.followed_up_at,
				reminders = excluded.reminders, escalated_at = excluded.escalated_at,
				acked_at = 0, acked_by = '', ack_note = ''
			WHERE alert_states.episode <> excluded.episode`,
			p.Kind, p.WatchID, p.CustomerID, millis(p.Episode), u.MutedBy, optToMillis(u.FollowedUpAt),
			u.Reminders, optToMillis(u.EscalatedAt))
	}
	if err != nil {
		return false, fmt.Errorf("update alert state of %s %s: %w", p.Kind, p.WatchID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// alertSubject is what a dispatched event is about, for recordAlerting.
type alertSubject struct {
	eventType  string
	kind       hub.WatchKind
	watchID    string
	customerID string
	// episode is set for the events of an outage: its watch events and
	// their follow-ups.
	episode time.Time
}

// alertDetails are the details of watch events and follow-ups that say
// what they are about.
type alertDetails struct {
	HostID       string  `json:"host_id"`
	LastReportAt string  `json:"last_report_at"`
	Kind         string  `json:"kind"`
	WatchID      string  `json:"watch_id"`
	ProblemType  string  `json:"problem_type"`
	Episode      float64 `json:"episode"`
}

// watchTypes are the watch events by type: the kind and whether it ends
// the outage.
var watchTypes = map[string]struct {
	kind     hub.WatchKind
	recovery bool
}{
	hub.EventNodeStale: {hub.WatchNode, false}, hub.EventNodeDown: {hub.WatchNode, false},
	hub.EventNodeRecovered: {hub.WatchNode, true},
	hub.EventHostStale:     {hub.WatchHost, false}, hub.EventHostDown: {hub.WatchHost, false},
	hub.EventHostRecovered: {hub.WatchHost, true},
}

// loadAlerting adds to state what silences and acknowledgements need to
// decide about event eventID of a customer (0: a legacy relay): its
// subject, the silences that may cover it, and its outage's record.
func loadAlerting(ctx context.Context, tx *sql.Tx, state *hub.NotificationState, customerID string, eventID int64) (*alertSubject, error) {
	sub := &alertSubject{eventType: "notify", kind: hub.WatchNode, watchID: customerID, customerID: customerID}
	matchType := sub.eventType
	if eventID != 0 {
		var details sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT event_type, details FROM events WHERE id = $1`, eventID).Scan(&sub.eventType, &details)
		if err != nil {
			return nil, fmt.Errorf("find event %d: %w", eventID, err)
		}
		matchType = sub.eventType
		var d alertDetails
		if details.Valid {
			_ = json.Unmarshal([]byte(details.String), &d) // details only narrow the subject down
		}
		if w, ok := watchTypes[sub.eventType]; ok {
			sub.kind = w.kind
			if w.kind == hub.WatchHost {
				sub.watchID = d.HostID
			}
			if t, err := time.Parse(time.RFC3339, d.LastReportAt); err == nil {
				sub.episode = hub.EpisodeOf(t)
			}
		} else if hub.OperatorOnlyEventType(sub.eventType) {
			sub.kind, sub.watchID, matchType = hub.WatchKind(d.Kind), d.WatchID, d.ProblemType
			sub.episode = fromMillis(int64(d.Episode))
		} else if d.HostID != "" {
			sub.kind, sub.watchID = hub.WatchHost, d.HostID
		}
	}
	a := &hub.AlertingState{Subject: hub.AlertSubject{Kind: sub.kind, CustomerID: customerID, EventType: matchType}}
	if sub.kind == hub.WatchHost {
		a.Subject.HostID = sub.watchID
	}
	now := millis(state.Now)
	silences, err := querySilences(ctx, tx, `SELECT `+silenceColumns+` FROM silences
		WHERE customer_id IN ($1, '') AND ends_at > $2 AND starts_at <= $2 AND (ended_at IS NULL OR ended_at > $2)`,
		customerID, now)
	if err != nil {
		return nil, err
	}
	a.Silences = silences
	if !sub.episode.IsZero() && sub.watchID != "" {
		p, err := findAlertState(ctx, tx, sub.kind, sub.watchID)
		if err != nil {
			return nil, err
		}
		if p != nil && p.Episode.Equal(sub.episode) {
			a.Problem = p
		}
	}
	state.Alerting = a
	return sub, nil
}

// findAlertState reads a record; nil when there is none.
func findAlertState(ctx context.Context, tx *sql.Tx, kind hub.WatchKind, id string) (*hub.OpenProblem, error) {
	p := hub.OpenProblem{Kind: kind, WatchID: id, Stored: true}
	var episode, followed, acked, escal int64
	err := tx.QueryRowContext(ctx, `SELECT customer_id, episode, muted_by, followed_up_at, acked_at, acked_by,
			ack_note, reminders, escalated_at
		FROM alert_states WHERE kind = $1 AND watch_id = $2`, kind, id).Scan(&p.CustomerID, &episode, &p.MutedBy,
		&followed, &acked, &p.AckedBy, &p.AckNote, &p.Reminders, &escal)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find alert state: %w", err)
	}
	p.Episode, p.FollowedUpAt, p.AckedAt, p.EscalatedAt = fromMillis(episode), optMillis(followed), optMillis(acked), optMillis(escal)
	return &p, nil
}

// recordAlerting keeps an outage's record as its watch events are
// dispatched: a stale or down event records whether a silence muted it
// (and starts afresh for a new outage); a recovery ends the record.
func recordAlerting(ctx context.Context, tx *sql.Tx, sub *alertSubject, planned []*hub.PlannedNotification) error {
	w, ok := watchTypes[sub.eventType]
	if !ok || sub.watchID == "" || sub.episode.IsZero() {
		return nil
	}
	if w.recovery {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_states WHERE kind = $1 AND watch_id = $2`, sub.kind, sub.watchID); err != nil {
			return fmt.Errorf("end alert state: %w", err)
		}
		return nil
	}
	var muted int64
	if i := slices.IndexFunc(planned, func(p *hub.PlannedNotification) bool { return p.SilenceID != 0 }); i >= 0 {
		muted = planned[i].SilenceID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_states (kind, watch_id, customer_id, episode, muted_by)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, watch_id) DO UPDATE SET
			customer_id = excluded.customer_id,
			followed_up_at = CASE WHEN alert_states.episode <> excluded.episode THEN 0
				WHEN excluded.muted_by <> 0 AND excluded.muted_by <> alert_states.muted_by THEN 0
				ELSE alert_states.followed_up_at END,
			acked_at = CASE WHEN alert_states.episode <> excluded.episode THEN 0 ELSE alert_states.acked_at END,
			acked_by = CASE WHEN alert_states.episode <> excluded.episode THEN '' ELSE alert_states.acked_by END,
			ack_note = CASE WHEN alert_states.episode <> excluded.episode THEN '' ELSE alert_states.ack_note END,
			reminders = CASE WHEN alert_states.episode <> excluded.episode THEN 0 ELSE alert_states.reminders END,
			escalated_at = CASE WHEN alert_states.episode <> excluded.episode THEN 0 ELSE alert_states.escalated_at END,
			muted_by = excluded.muted_by,
			episode = excluded.episode`,
		sub.kind, sub.watchID, sub.customerID, millis(sub.episode), muted); err != nil {
		return fmt.Errorf("record alert state: %w", err)
	}
	return nil
}
