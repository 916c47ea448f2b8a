package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.CustomerService = (*DB)(nil)

// customerSelect reads customers with their config and latest report; the
// report columns are COALESCEd because a managed customer may have none yet.
const customerSelect = `SELECT ` + customerColumns + customerFrom

const customerColumns = `c.id, c.created_at, cc.customer_id IS NOT NULL,
	COALESCE(cc.display_name, ''), COALESCE(cc.domain, ''), COALESCE(cc.status, ''),
	COALESCE(cc.monitoring_paused, 0), COALESCE(cc.stale_threshold_seconds, 0),
	COALESCE(cc.down_threshold_seconds, 0), c.latest_report_id,
	COALESCE(r.received_at, 0), r.reported_at, COALESCE(r.controller_version, ''),
	COALESCE(r.controller_url, ''), COALESCE(r.health, ''), COALESCE(r.monitoring_enabled, 1),
	COALESCE(r.hostname, ''), COALESCE(r.cpu_percent, 0), COALESCE(r.mem_percent, 0),
	COALESCE(r.disk_percent, 0), COALESCE(r.containers_total, 0),
	COALESCE(r.containers_running, 0), r.last_backup_at, COALESCE(r.last_backup_status, ''),
	COALESCE(r.unread_metrics, 0), COALESCE(r.check_problems, ''), COALESCE(hd.down, 0)`

const customerFrom = `
	FROM customers c
	LEFT JOIN customer_configs cc ON cc.customer_id = c.id
	LEFT JOIN reports r ON r.id = c.latest_report_id
	LEFT JOIN (SELECT customer_id, COUNT(*) AS down FROM hosts WHERE monitor_state = 'down'
		GROUP BY customer_id) hd ON hd.customer_id = c.id`

type rowScanner interface{ Scan(dest ...any) error }

func scanCustomer(row rowScanner) (*hub.Customer, error) {
	var (
		c                    hub.Customer
		s                    hub.ReportSummary
		created, received    int64
		status               string
		staleSec, downSec    int64
		latestID             sql.NullInt64
		reported, lastBackup sql.NullInt64
		unread               int
		checkProblems        string
	)
	err := row.Scan(&c.ID, &created, &c.Managed, &c.DisplayName, &c.Domain, &status,
		&c.MonitoringPaused, &staleSec, &downSec, &latestID,
		&received, &reported, &s.ControllerVersion, &s.ControllerURL, &s.Health,
		&s.MonitoringEnabled, &s.Hostname, &s.CPUPercent, &s.MemPercent, &s.DiskPercent,
		&s.ContainersTotal, &s.ContainersRunning, &lastBackup, &s.LastBackupStatus,
		&unread, &checkProblems, &c.HostsDown)
	if err != nil {
		return nil, err
	}
	c.CreatedAt = fromMillis(created)
	c.Blocked = status == hub.ConfigBlocked
	c.Thresholds = hub.Thresholds{Stale: time.Duration(staleSec) * time.Second, Down: time.Duration(downSec) * time.Second}
	if latestID.Valid {
		s.ReportID = latestID.Int64
		s.ReceivedAt = fromMillis(received)
		s.ReportedAt = timePtr(reported)
		s.LastBackupAt = timePtr(lastBackup)
		s.SetUnreadMetrics(unread)
		s.CheckProblems = hub.DecodeCheckProblems(checkProblems)
		c.Latest = &s
	}
	return &c, nil
}

// FindCustomers returns every customer ordered by id.
func (db *DB) FindCustomers(ctx context.Context) ([]*hub.Customer, error) {
	rows, err := db.read.QueryContext(ctx, customerSelect+` ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
	}
	defer rows.Close()
	out := []*hub.Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("scan customer: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FindCustomerByID returns one customer.
func (db *DB) FindCustomerByID(ctx context.Context, id string) (*hub.Customer, error) {
	c, err := scanCustomer(db.read.QueryRowContext(ctx, customerSelect+` WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	return c, nil
}

// sealContext binds a sealed value to its column and customer.
func sealContext(column, customerID string) string {
	return "customer_configs." + column + ":" + customerID
}

// sealOptional seals a secret that may be empty; an empty one is stored as
// the empty string.
func (db *DB) sealOptional(value, context string) string {
	if value == "" {
		return ""
	}
	return db.sealer.Seal(value, context)
}

// openOptional opens a value stored by sealOptional.
func (db *DB) openOptional(stored, context string) (string, error) {
	if stored == "" {
		return "", nil
	}
	return db.sealer.Open(stored, context)
}

// CreateCustomerConfig stores a new managed config.
func (db *DB) CreateCustomerConfig(ctx context.Context, cfg *hub.CustomerConfig) error {
	if cfg.APIKey == "" || cfg.RetrievalPassword == "" || cfg.SessionSecret == "" {
		return errors.New("create customer config: credentials not minted")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO customers (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
			cfg.CustomerID, millis(now)); err != nil {
			return fmt.Errorf("create customer: %w", err)
		}
		if err := touchCustomer(ctx, tx, cfg.CustomerID, now); err != nil {
			return err
		}
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM customer_configs WHERE customer_id = $1`, cfg.CustomerID).Scan(&exists)
		if err == nil {
			return hub.Errorf(hub.ECONFLICT, "customer %s already has a config", cfg.CustomerID)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check config: %w", err)
		}
		id := cfg.CustomerID
		_, err = tx.ExecContext(ctx, `INSERT INTO customer_configs (
				customer_id, display_name, domain, status, monitoring_paused,
				stale_threshold_seconds, down_threshold_seconds,
				api_key_hash, api_key_sealed, retrieval_password_hash, retrieval_password_sealed,
				session_secret_sealed, cloudflare_tunnel_token_sealed,
				legacy_heartbeat_uuid, legacy_backup_uuid, overrides_yaml_sealed,
				created_at, updated_at
			) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			id, cfg.DisplayName, cfg.Domain, cfg.Status, cfg.MonitoringPaused,
			int64(cfg.StaleThreshold/time.Second), int64(cfg.DownThreshold/time.Second),
			hub.HashSecret(cfg.APIKey), db.sealer.Seal(cfg.APIKey, sealContext("api_key", id)),
			hub.HashSecret(cfg.RetrievalPassword), db.sealer.Seal(cfg.RetrievalPassword, sealContext("retrieval_password", id)),
			db.sealer.Seal(cfg.SessionSecret, sealContext("session_secret", id)),
			db.sealOptional(cfg.CloudflareTunnelToken, sealContext("cloudflare_tunnel_token", id)),
			cfg.LegacyHeartbeatUUID, cfg.LegacyBackupUUID,
			db.sealOptional(cfg.OverridesYAML, sealContext("overrides_yaml", id)),
			millis(now), millis(now))
		if err != nil {
			return fmt.Errorf("insert config: %w", err)
		}
		cfg.CreatedAt, cfg.UpdatedAt = now, now
		return nil
	})
}

// queryer is what both *sql.DB and *sql.Tx offer for reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// FindCustomerConfig returns a managed config with its credentials opened.
func (db *DB) FindCustomerConfig(ctx context.Context, id string) (*hub.CustomerConfig, error) {
	return db.findConfig(ctx, db.read, id)
}

func (db *DB) findConfig(ctx context.Context, q queryer, id string) (*hub.CustomerConfig, error) {
	var (
		cfg                           hub.CustomerConfig
		staleSec, downSec             int64
		created, updated              int64
		keySealed, pwSealed, ssSea    string
		tunnelSealed, overridesSealed string
		prevSealed                    string
		prevUntil, rotated, confirmed int64
	)
	err := q.QueryRowContext(ctx, `SELECT customer_id, display_name, domain, status,
			monitoring_paused, stale_threshold_seconds, down_threshold_seconds,
			api_key_sealed, retrieval_password_sealed, session_secret_sealed,
			cloudflare_tunnel_token_sealed, legacy_heartbeat_uuid, legacy_backup_uuid,
			overrides_yaml_sealed, created_at, updated_at,
			previous_api_key_sealed, previous_api_key_valid_until, api_key_rotated_at, api_key_confirmed_at
		FROM customer_configs WHERE customer_id = $1`, id).Scan(
		&cfg.CustomerID, &cfg.DisplayName, &cfg.Domain, &cfg.Status,
		&cfg.MonitoringPaused, &staleSec, &downSec, &keySealed, &pwSealed, &ssSea,
		&tunnelSealed, &cfg.LegacyHeartbeatUUID, &cfg.LegacyBackupUUID,
		&overridesSealed, &created, &updated,
		&prevSealed, &prevUntil, &rotated, &confirmed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "customer %s has no config", id)
	} else if err != nil {
		return nil, fmt.Errorf("find config: %w", err)
	}
	cfg.StaleThreshold = time.Duration(staleSec) * time.Second
	cfg.DownThreshold = time.Duration(downSec) * time.Second
	cfg.CreatedAt, cfg.UpdatedAt = fromMillis(created), fromMillis(updated)
	cfg.Rotation = hub.KeyRotation{
		PreviousValidUntil: optionalMillis(prevUntil),
		RotatedAt:          optionalMillis(rotated),
		ConfirmedAt:        optionalMillis(confirmed),
	}
	for _, f := range []struct {
		column string
		sealed string
		dst    *string
	}{
		{"api_key", keySealed, &cfg.APIKey},
		{"retrieval_password", pwSealed, &cfg.RetrievalPassword},
		{"session_secret", ssSea, &cfg.SessionSecret},
		{"cloudflare_tunnel_token", tunnelSealed, &cfg.CloudflareTunnelToken},
		{"overrides_yaml", overridesSealed, &cfg.OverridesYAML},
		{"previous_api_key", prevSealed, &cfg.Rotation.PreviousAPIKey},
	} {
		if *f.dst, err = db.openOptional(f.sealed, sealContext(f.column, id)); err != nil {
			return nil, fmt.Errorf("open %s of %s: %w", f.column, id, err)
		}
	}
	return &cfg, nil
}

// optionalMillis reads a time stored as unix ms where 0 means none.
func optionalMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

// UpdateCustomerConfig changes the editable fields of a config in one
// transaction. update may not change the id, the credentials or the times:
// whatever it does to them is undone.
func (db *DB) UpdateCustomerConfig(ctx context.Context, id string, update func(*hub.CustomerConfig) error) (*hub.CustomerConfig, error) {
	var out *hub.CustomerConfig
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		cfg, err := db.findConfig(ctx, tx, id)
		if err != nil {
			return err
		}
		fixed := *cfg
		if err := update(cfg); err != nil {
			return err
		}
		cfg.CustomerID, cfg.CreatedAt = fixed.CustomerID, fixed.CreatedAt
		cfg.APIKey, cfg.RetrievalPassword, cfg.SessionSecret = fixed.APIKey, fixed.RetrievalPassword, fixed.SessionSecret
		cfg.Rotation = fixed.Rotation
		if err := cfg.Validate(); err != nil {
			return err
		}
		cfg.UpdatedAt = now
		out = cfg
		if err := updateConfig(ctx, tx, id, now, `display_name = $1, domain = $2, status = $3, monitoring_paused = $4,
				stale_threshold_seconds = $5, down_threshold_seconds = $6,
				cloudflare_tunnel_token_sealed = $7, legacy_heartbeat_uuid = $8, legacy_backup_uuid = $9,
				overrides_yaml_sealed = $10, updated_at = $11`,
			cfg.DisplayName, cfg.Domain, cfg.Status, cfg.MonitoringPaused,
			int64(cfg.StaleThreshold/time.Second), int64(cfg.DownThreshold/time.Second),
			db.sealOptional(cfg.CloudflareTunnelToken, sealContext("cloudflare_tunnel_token", id)),
			cfg.LegacyHeartbeatUUID, cfg.LegacyBackupUUID,
			db.sealOptional(cfg.OverridesYAML, sealContext("overrides_yaml", id)), millis(now)); err != nil {
			return err
		}
		if cfg.StaleThreshold != fixed.StaleThreshold || cfg.DownThreshold != fixed.DownThreshold {
			return rearmNode(ctx, tx, id, hub.Thresholds{Stale: cfg.StaleThreshold, Down: cfg.DownThreshold}.WithDefaults(db.Thresholds))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// dummyRetrievalHash is compared against when the customer does not exist,
// so that an unknown customer costs the same work as a wrong password.
var dummyRetrievalHash = hub.HashSecret("no such customer: " + hub.RandomHex(16))

// AuthenticateRetrieval checks a customer's retrieval password. Both
// failure paths run one indexed query, hash the password once and compare
// in constant time, and return the same error.
func (db *DB) AuthenticateRetrieval(ctx context.Context, id, password string) error {
	var stored string
	err := db.read.QueryRowContext(ctx,
		`SELECT retrieval_password_hash FROM customer_configs WHERE customer_id = $1`, id).Scan(&stored)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find retrieval password: %w", err)
	}
	if !found {
		stored = dummyRetrievalHash
	}
	ok := hub.SecretEqual(hub.HashSecret(password), stored)
	if !ok || !found || password == "" {
		return hub.ErrRetrievalDenied
	}
	return nil
}

// SetCustomerBlocked blocks or unblocks a managed customer.
func (db *DB) SetCustomerBlocked(ctx context.Context, id string, blocked bool) error {
	status := hub.ConfigActive
	if blocked {
		status = hub.ConfigBlocked
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		return updateConfig(ctx, tx, id, now, `status = $1, updated_at = $2`, status, millis(now))
	})
}

// RotateCustomerKey replaces the customer's API key. The key the node was
// last seen using stays valid for grace: the current key when the node has
// authenticated with it or no earlier key is still valid, otherwise the
// earlier key (rotating twice before the node has the second key must not
// strand a node that only knows the first). grace 0 keeps no previous key.
func (db *DB) RotateCustomerKey(ctx context.Context, id, newKey string, grace time.Duration) error {
	if newKey == "" {
		return errors.New("rotate key: empty key")
	}
	if grace < 0 {
		return errors.New("rotate key: negative grace")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var (
			curHash, curSealed, prevSealed string
			prevHash                       sql.NullString
			prevUntil, confirmed           int64
		)
		err := tx.QueryRowContext(ctx, `SELECT api_key_hash, api_key_sealed, previous_api_key_hash,
				previous_api_key_sealed, previous_api_key_valid_until, api_key_confirmed_at
			FROM customer_configs WHERE customer_id = $1`, id).Scan(
			&curHash, &curSealed, &prevHash, &prevSealed, &prevUntil, &confirmed)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.Errorf(hub.ENOTFOUND, "customer %s has no config", id)
		} else if err != nil {
			return fmt.Errorf("rotate key: read: %w", err)
		}
		var keepHash any // NULL: no previous key
		keepSealed, keepUntil := "", int64(0)
		switch {
		case grace == 0:
		case prevHash.Valid && prevUntil > millis(now) && confirmed == 0:
			// The node has not used the current key: it still knows the
			// previous one, which keeps its place with a fresh grace.
			keepHash, keepSealed, keepUntil = prevHash.String, prevSealed, millis(now.Add(grace))
		default:
			current, err := db.openOptional(curSealed, sealContext("api_key", id))
			if err != nil {
				return fmt.Errorf("rotate key: open current key of %s: %w", id, err)
			}
			keepHash, keepSealed, keepUntil = curHash, db.sealer.Seal(current, sealContext("previous_api_key", id)), millis(now.Add(grace))
		}
		return updateConfig(ctx, tx, id, now, `api_key_hash = $1, api_key_sealed = $2,
				previous_api_key_hash = $3, previous_api_key_sealed = $4, previous_api_key_valid_until = $5,
				api_key_rotated_at = $6, api_key_confirmed_at = 0, updated_at = $6`,
			hub.HashSecret(newKey), db.sealer.Seal(newKey, sealContext("api_key", id)),
			keepHash, keepSealed, keepUntil, millis(now))
	})
}

// updateConfig sets columns of one config; ENOTFOUND when there is none.
// set numbers its parameters $1 to $len(args); the id comes after them.
// The fleet view sees the change (touchCustomer).
func updateConfig(ctx context.Context, tx *sql.Tx, id string, now time.Time, set string, args ...any) error {
	res, err := tx.ExecContext(ctx, `UPDATE customer_configs SET `+set+` WHERE customer_id = `+placeholder(len(args)+1), append(args, id)...)
	if err != nil {
		return fmt.Errorf("update config: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hub.Errorf(hub.ENOTFOUND, "customer %s has no config", id)
	}
	return touchCustomer(ctx, tx, id, now)
}

// DeleteCustomerConfig removes a managed config. The customer row stays when
// the customer has reported or has events or hosts, so it shows as manual.
func (db *DB) DeleteCustomerConfig(ctx context.Context, id string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM customer_configs WHERE customer_id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete config: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hub.Errorf(hub.ENOTFOUND, "customer %s has no config", id)
		}
		if err := touchCustomer(ctx, tx, id, now); err != nil {
			return err
		}
		// A customer that never reported and has no events or hosts goes
		// entirely, its DR snapshots with it; any other stays as manual and
		// keeps them.
		const gone = `latest_report_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM events WHERE customer_id = customers.id)
			AND NOT EXISTS (SELECT 1 FROM hosts WHERE customer_id = customers.id)`
		if _, err := tx.ExecContext(ctx, `DELETE FROM infra_backups WHERE customer_id = $1
			AND EXISTS (SELECT 1 FROM customers WHERE id = $1 AND `+gone+`)`, id); err != nil {
			return fmt.Errorf("delete infra backups: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM refused_reports WHERE customer_id = $1
			AND EXISTS (SELECT 1 FROM customers WHERE id = $1 AND `+gone+`)`, id); err != nil {
			return fmt.Errorf("delete refused reports: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customers WHERE id = $1 AND `+gone, id); err != nil {
			return fmt.Errorf("delete customer: %w", err)
		}
		return nil
	})
}

// FindCustomerIDByKey looks a customer up by the SHA-256 of its API key,
// or of its previous key while that is valid, and confirms the match in
// constant time.
func (db *DB) FindCustomerIDByKey(ctx context.Context, key string) (string, error) {
	m, err := db.matchCustomerKey(ctx, key)
	if err != nil {
		return "", err
	}
	return m.id, nil
}

// AuthenticateCustomerKey is FindCustomerIDByKey for a request from the
// node: the first time it uses the current key after a rotation, the key
// is recorded as confirmed and the previous one is forgotten. That is one
// write per rotation; every later request only reads.
func (db *DB) AuthenticateCustomerKey(ctx context.Context, key string) (string, error) {
	m, err := db.matchCustomerKey(ctx, key)
	if err != nil {
		return "", err
	}
	if m.current && (m.confirmed == 0 || m.hasPrevious) {
		err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
			// The hash in the condition: a rotation that happened since the
			// read has made this key a previous one, which stays.
			_, err := tx.ExecContext(ctx, `UPDATE customer_configs
				SET api_key_confirmed_at = $1, previous_api_key_hash = NULL,
					previous_api_key_sealed = '', previous_api_key_valid_until = 0
				WHERE customer_id = $2 AND api_key_hash = $3`, millis(now), m.id, m.hash)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("confirm key of %s: %w", m.id, err)
		}
	}
	return m.id, nil
}

// keyMatch is the customer a key belongs to.
type keyMatch struct {
	id          string
	hash        string
	current     bool // the current key, not the previous one
	confirmed   int64
	hasPrevious bool
}

// matchCustomerKey finds the customer whose current key, or previous key
// within its grace, hashes to the key's hash: two indexed lookups, the
// second only when the first finds nothing.
func (db *DB) matchCustomerKey(ctx context.Context, key string) (*keyMatch, error) {
	want := hub.HashSecret(key)
	m := &keyMatch{hash: want, current: true}
	var got string
	var prev sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT customer_id, api_key_hash, api_key_confirmed_at, previous_api_key_hash
		FROM customer_configs WHERE api_key_hash = $1`, want).Scan(&m.id, &got, &m.confirmed, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		m.current = false
		var until int64
		err = db.read.QueryRowContext(ctx, `SELECT customer_id, previous_api_key_hash, previous_api_key_valid_until
			FROM customer_configs WHERE previous_api_key_hash = $1`, want).Scan(&m.id, &got, &until)
		if err == nil && until <= millis(db.Now()) {
			err = sql.ErrNoRows // its grace is over
		}
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hub.SecretEqual(got, want)) {
		return nil, hub.Errorf(hub.EUNAUTHORIZED, "unknown API key")
	} else if err != nil {
		return nil, fmt.Errorf("find key: %w", err)
	}
	m.hasPrevious = prev.Valid
	return m, nil
}

// touchCustomer tells the fleet views that what they show of a customer may
// have changed: the revision goes up and changed_at says when
// (fleetview.go). It is part of the transaction that made the change.
func touchCustomer(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET view_rev = view_rev + 1, changed_at = $1 WHERE id = $2`,
		millis(now), id); err != nil {
		return fmt.Errorf("touch customer: %w", err)
	}
	return nil
}

// rearmNode moves the dead man's switch deadline of a node that is up or
// stale to where its new thresholds put it: the stale deadline of an up
// node, the down deadline of a stale one, both counted from its latest
// report. A node already silent for longer is due at once, so the next
// checker pass raises its alert instead of one under the old thresholds.
func rearmNode(ctx context.Context, tx *sql.Tx, id string, t hub.Thresholds) error {
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET next_deadline = latest_received_at +
			CASE WHEN monitor_state = $1 THEN CAST($2 AS BIGINT) ELSE CAST($3 AS BIGINT) END
		WHERE id = $4 AND monitor_state IN ($1, $5) AND latest_received_at IS NOT NULL`,
		hub.StateUp, t.Stale.Milliseconds(), t.Down.Milliseconds(), id, hub.StateStale); err != nil {
		return fmt.Errorf("re-arm dead man's switch: %w", err)
	}
	return nil
}
