-- Customers: one row per customer the hub knows, managed or manual. The
-- latest_* columns make the fleet view one row per customer.
CREATE TABLE customers (
	id                 TEXT PRIMARY KEY,
	created_at         INTEGER NOT NULL,
	latest_report_id   INTEGER,
	latest_received_at INTEGER
);

-- The operator-managed config of a managed customer. Secrets are sealed
-- (AES-GCM when secrets.key is set); keys are looked up by their SHA-256.
CREATE TABLE customer_configs (
	customer_id               TEXT PRIMARY KEY REFERENCES customers (id),
	display_name              TEXT NOT NULL DEFAULT '',
	domain                    TEXT NOT NULL DEFAULT '',
	status                    TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
	monitoring_paused         INTEGER NOT NULL DEFAULT 0,
	stale_threshold_seconds   INTEGER NOT NULL DEFAULT 0,
	down_threshold_seconds    INTEGER NOT NULL DEFAULT 0,
	api_key_hash              TEXT NOT NULL UNIQUE,
	api_key_sealed            TEXT NOT NULL,
	retrieval_password_hash   TEXT NOT NULL,
	retrieval_password_sealed TEXT NOT NULL,
	session_secret_sealed     TEXT NOT NULL,
	created_at                INTEGER NOT NULL,
	updated_at                INTEGER NOT NULL
);

-- Every controller report: the body as received plus the denormalized
-- columns the views, the status logic and the charts read.
CREATE TABLE reports (
	id                 INTEGER PRIMARY KEY,
	customer_id        TEXT NOT NULL REFERENCES customers (id),
	received_at        INTEGER NOT NULL,
	reported_at        INTEGER,
	controller_version TEXT NOT NULL DEFAULT '',
	controller_url     TEXT NOT NULL DEFAULT '',
	health             TEXT NOT NULL DEFAULT '',
	monitoring_enabled INTEGER NOT NULL DEFAULT 1,
	hostname           TEXT NOT NULL DEFAULT '',
	cpu_percent        REAL NOT NULL DEFAULT 0,
	mem_percent        REAL NOT NULL DEFAULT 0,
	disk_percent       REAL NOT NULL DEFAULT 0,
	containers_total   INTEGER NOT NULL DEFAULT 0,
	containers_running INTEGER NOT NULL DEFAULT 0,
	last_backup_at     INTEGER,
	last_backup_status TEXT NOT NULL DEFAULT '',
	body               BLOB NOT NULL
);

CREATE INDEX reports_customer_received ON reports (customer_id, received_at);
CREATE INDEX reports_received ON reports (received_at);
