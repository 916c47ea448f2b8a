package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.HostService = (*DB)(nil)

// UpsertHost creates a host or updates its identity only.
func (db *DB) UpsertHost(ctx context.Context, h *hub.Host, apiKey string) error {
	var keyHash sql.NullString
	if apiKey != "" {
		keyHash = sql.NullString{String: hub.HashSecret(apiKey), Valid: true}
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hosts (id, customer_id, api_key_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET
				customer_id = excluded.customer_id,
				api_key_hash = COALESCE(excluded.api_key_hash, hosts.api_key_hash),
				updated_at = excluded.updated_at`,
			h.ID, h.CustomerID, keyHash, millis(now), millis(now))
		if err != nil {
			return fmt.Errorf("upsert host: %w", err)
		}
		return nil
	})
}

// hostColumns are the hosts columns scanned by scanHost, in order.
const hostColumns = `h.id, h.customer_id, h.hostname, h.agent_version, h.pve_version, h.kernel,
	h.last_report_at, h.monitor_state, h.created_at, h.updated_at`

func scanHost(row rowScanner, extra ...any) (*hub.Host, error) {
	var (
		h                hub.Host
		lastReport       sql.NullInt64
		created, updated int64
	)
	dest := append([]any{&h.ID, &h.CustomerID, &h.Hostname, &h.AgentVersion, &h.PVEVersion, &h.Kernel,
		&lastReport, &h.MonitorState, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	h.LastReportAt = timePtr(lastReport)
	h.CreatedAt, h.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &h, nil
}

// FindHostByID returns a host without its guests and latest report.
func (db *DB) FindHostByID(ctx context.Context, id string) (*hub.Host, error) {
	h, err := scanHost(db.read.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts h WHERE h.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "host %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find host: %w", err)
	}
	return h, nil
}

// FindHostByAPIKey looks a host up by the SHA-256 of its key and confirms
// the match in constant time.
func (db *DB) FindHostByAPIKey(ctx context.Context, key string) (*hub.Host, error) {
	want := hub.HashSecret(key)
	var got string
	h, err := scanHost(db.read.QueryRowContext(ctx,
		`SELECT `+hostColumns+`, h.api_key_hash FROM hosts h WHERE h.api_key_hash = $1`, want), &got)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hub.SecretEqual(got, want)) {
		return nil, hub.Errorf(hub.EUNAUTHORIZED, "unknown API key")
	} else if err != nil {
		return nil, fmt.Errorf("find host key: %w", err)
	}
	return h, nil
}

// FindHosts returns a customer's hosts with their latest report and guests.
func (db *DB) FindHosts(ctx context.Context, customerID string) ([]*hub.Host, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+hostColumns+`,
			r.id IS NOT NULL, COALESCE(r.id, 0), COALESCE(r.received_at, 0), r.reported_at,
			COALESCE(r.agent_version, ''), COALESCE(r.hostname, ''), COALESCE(r.cpu_percent, 0),
			COALESCE(r.mem_percent, 0), COALESCE(r.disk_percent, 0), COALESCE(r.guest_total, 0),
			COALESCE(r.guest_running, 0), COALESCE(r.cloudflared_status, ''), COALESCE(r.problems, '')
		FROM hosts h LEFT JOIN host_reports r ON r.id = h.latest_report_id
		WHERE h.customer_id = $1 ORDER BY h.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("find hosts: %w", err)
	}
	defer rows.Close()
	out := []*hub.Host{}
	byID := map[string]*hub.Host{}
	for rows.Next() {
		var (
			s         hub.HostReportSummary
			hasReport bool
			received  int64
			reported  sql.NullInt64
			problems  string
		)
		h, err := scanHost(rows, &hasReport, &s.ReportID, &received, &reported, &s.AgentVersion,
			&s.Hostname, &s.CPUPercent, &s.MemPercent, &s.DiskPercent, &s.GuestTotal,
			&s.GuestRunning, &s.CloudflaredStatus, &problems)
		if err != nil {
			return nil, fmt.Errorf("scan host: %w", err)
		}
		if hasReport {
			s.ReceivedAt, s.ReportedAt = fromMillis(received), timePtr(reported)
			s.CPUPercent, s.MemPercent, s.DiskPercent = finitePercent(s.CPUPercent), finitePercent(s.MemPercent), finitePercent(s.DiskPercent)
			s.Problems = hub.ParseFieldProblems(problems)
			h.Latest = &s
		}
		h.Guests = []*hub.Guest{}
		out = append(out, h)
		byID[h.ID] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, db.addGuests(ctx, customerID, byID)
}

// addGuests reads the guests of a customer's hosts in one query.
func (db *DB) addGuests(ctx context.Context, customerID string, hosts map[string]*hub.Host) error {
	rows, err := db.read.QueryContext(ctx, `SELECT g.id, g.host_id, g.vmid, g.display_name, g.status,
			g.controller_version, g.spec_json, g.last_seen_at
		FROM guests g JOIN hosts h ON h.id = g.host_id
		WHERE h.customer_id = $1 ORDER BY g.host_id, g.vmid`, customerID)
	if err != nil {
		return fmt.Errorf("find guests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			g        hub.Guest
			spec     sql.NullString
			lastSeen int64
		)
		if err := rows.Scan(&g.ID, &g.HostID, &g.VMID, &g.Name, &g.Status, &g.ControllerVersion, &spec, &lastSeen); err != nil {
			return fmt.Errorf("scan guest: %w", err)
		}
		if spec.Valid {
			g.Spec = []byte(spec.String)
		}
		g.LastSeenAt = fromMillis(lastSeen)
		if h := hosts[g.HostID]; h != nil {
			h.Guests = append(h.Guests, &g)
		}
	}
	return rows.Err()
}

// CreateHostReport stores a host report, updates the host's reality columns
// and moves its dead man's switch to up, storing host_recovered after stale
// or down, in one transaction.
func (db *DB) CreateHostReport(ctx context.Context, r *hub.HostReport) (*hub.HostReportResult, error) {
	var res hub.HostReportResult
	var recovered *hub.Event
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := db.dialect.lockReportIDs(ctx, tx); err != nil {
			return err
		}
		var err error
		res, recovered, err = createHostReport(ctx, tx, db.dialect, r, now, db.HostThresholds)
		return err
	})
	if err != nil {
		return nil, err
	}
	if recovered != nil {
		db.eventsStored()
	}
	return &res, nil
}

func createHostReport(ctx context.Context, tx *sql.Tx, d dialect, r *hub.HostReport, now time.Time, thresholds hub.Thresholds) (hub.HostReportResult, *hub.Event, error) {
	res := hub.HostReportResult{}
	w := hub.Watch{Kind: hub.WatchHost, ID: r.HostID, Thresholds: thresholds}
	var (
		hostname, status string
		paused           bool
		lastSeen         sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT h.customer_id, h.hostname, h.monitor_state,
			COALESCE(h.latest_report_id, 0), h.last_report_at,
			COALESCE(cc.status, ''), COALESCE(cc.monitoring_paused, 0)
		FROM hosts h LEFT JOIN customer_configs cc ON cc.customer_id = h.customer_id
		WHERE h.id = $1`+d.forUpdate("h"), r.HostID).Scan(&w.CustomerID, &hostname, &w.State, &w.LastReportID, &lastSeen, &status, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return res, nil, hub.Errorf(hub.EINVALID, "host %s is unknown: register it with POST /api/v1/admin/hosts", r.HostID)
	} else if err != nil {
		return res, nil, fmt.Errorf("read host: %w", err)
	}
	res.CustomerID = w.CustomerID
	res.CustomerBlocked = status == hub.ConfigBlocked
	w.Muted = res.CustomerBlocked || paused
	if lastSeen.Valid {
		w.LastSeen = fromMillis(lastSeen.Int64)
	}

	s := r.Summarize(now)
	problems := r.Problems.Encode()
	err = tx.QueryRowContext(ctx, `INSERT INTO host_reports (
			host_id, received_at, reported_at, agent_version, hostname, cpu_percent, mem_percent,
			disk_percent, guest_total, guest_running, cloudflared_status, body, problems
		) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		r.HostID, millis(now), nullMillis(s.ReportedAt), s.AgentVersion, s.Hostname, s.CPUPercent,
		s.MemPercent, s.DiskPercent, s.GuestTotal, s.GuestRunning, s.CloudflaredStatus, emptyBody, problems,
	).Scan(&res.ReportID)
	if err != nil {
		return res, nil, fmt.Errorf("insert host report: %w", err)
	}
	if err := insertBody(ctx, tx, hostReportStream, res.ReportID, r.Raw); err != nil {
		return res, nil, err
	}
	var pve, kernel string
	if h := r.Host; h != nil {
		pve, kernel = h.PVEVersion, h.Kernel
	}
	// Reality columns only: identity and the reserved desired-state columns
	// are not the report's to write.
	w.Name = hostName(r.HostID, hostname)
	u := w.Report(now, res.ReportID, true)
	if _, err := tx.ExecContext(ctx, `UPDATE hosts SET
			hostname = $1, agent_version = $2, pve_version = $3, kernel = $4,
			latest_report_id = $5, last_report_at = $6, monitor_state = $7, next_deadline = $8,
			state_changed_at = CASE WHEN monitor_state = $7 THEN state_changed_at ELSE $6 END
		WHERE id = $9`,
		s.Hostname, s.AgentVersion, pve, kernel, res.ReportID, millis(now),
		u.State, millis(*u.NextDeadline), r.HostID); err != nil {
		return res, nil, fmt.Errorf("update host: %w", err)
	}
	if u.State != w.State {
		// Back from down: the customer's fleet row no longer says "host down".
		if err := touchCustomer(ctx, tx, w.CustomerID, now); err != nil {
			return res, nil, err
		}
	}
	if u.Event == nil {
		return res, nil, nil
	}
	if _, err := insertEvent(ctx, tx, u.Event, now); err != nil {
		return res, nil, err
	}
	return res, u.Event, nil
}

// hostName is how messages name a host: its id and, when known, hostname.
func hostName(id, hostname string) string {
	if hostname == "" {
		return id
	}
	return id + " (" + hostname + ")"
}

// UpsertGuestFromReport records a guest's reality columns.
func (db *DB) UpsertGuestFromReport(ctx context.Context, hostID string, g hub.HostReportGuest) error {
	var spec sql.NullString
	if len(g.Spec) > 0 && string(g.Spec) != "null" {
		spec = sql.NullString{String: string(g.Spec), Valid: true}
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO guests (
				id, host_id, vmid, display_name, status, controller_version, spec_json,
				last_seen_at, created_at, updated_at
			) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET
				display_name = excluded.display_name,
				status = excluded.status,
				controller_version = excluded.controller_version,
				spec_json = excluded.spec_json,
				last_seen_at = excluded.last_seen_at,
				updated_at = excluded.updated_at`,
			hub.GuestID(hostID, g.VMID), hostID, g.VMID, g.Name, g.Status, g.ControllerVersion, spec,
			millis(now), millis(now), millis(now))
		if err != nil {
			return fmt.Errorf("upsert guest %s: %w", hub.GuestID(hostID, g.VMID), err)
		}
		return nil
	})
}

// CountHostsByState counts hosts by their dead man's switch state (unknown,
// up, stale, down).
func (db *DB) CountHostsByState(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT monitor_state, COUNT(*) FROM hosts GROUP BY monitor_state`)
	if err != nil {
		return nil, fmt.Errorf("count hosts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count hosts: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}
