-- v0.7.0 host domain. Additive only: the controller tables are untouched.

-- One row per host agent (a customer's Proxmox host). Identity columns are
-- written by the admin API, reality columns by reports. desired_json,
-- desired_generation and dr_record_json are reserved for the desired-state
-- slices and never written by the report path.
CREATE TABLE hosts (
	id                 TEXT PRIMARY KEY,
	customer_id        TEXT NOT NULL REFERENCES customers (id),
	api_key_hash       TEXT UNIQUE,
	hostname           TEXT NOT NULL DEFAULT '',
	agent_version      TEXT NOT NULL DEFAULT '',
	pve_version        TEXT NOT NULL DEFAULT '',
	kernel             TEXT NOT NULL DEFAULT '',
	latest_report_id   INTEGER,
	last_report_at     INTEGER,
	monitor_state      TEXT NOT NULL DEFAULT 'unknown'
		CHECK (monitor_state IN ('unknown', 'up', 'stale', 'down')),
	state_changed_at   INTEGER,
	next_deadline      INTEGER,
	desired_json       TEXT,
	desired_generation INTEGER NOT NULL DEFAULT 0,
	dr_record_json     TEXT,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
);

CREATE INDEX hosts_customer ON hosts (customer_id);
CREATE INDEX hosts_next_deadline ON hosts (next_deadline);
CREATE INDEX hosts_latest_report ON hosts (latest_report_id);

-- One row per guest (a controller LXC) a host reported, id '<host_id>/<vmid>'.
-- api_key and desired_spec_json are reserved for later slices and never
-- written by the report path.
CREATE TABLE guests (
	id                 TEXT PRIMARY KEY,
	host_id            TEXT NOT NULL REFERENCES hosts (id),
	vmid               INTEGER NOT NULL,
	display_name       TEXT NOT NULL DEFAULT '',
	status             TEXT NOT NULL DEFAULT '',
	controller_version TEXT NOT NULL DEFAULT '',
	spec_json          TEXT,
	last_seen_at       INTEGER NOT NULL,
	api_key            TEXT,
	desired_spec_json  TEXT,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	UNIQUE (host_id, vmid)
);

-- Every host report: the body as received plus the denormalized columns.
CREATE TABLE host_reports (
	id                 INTEGER PRIMARY KEY,
	host_id            TEXT NOT NULL REFERENCES hosts (id),
	received_at        INTEGER NOT NULL,
	reported_at        INTEGER,
	agent_version      TEXT NOT NULL DEFAULT '',
	hostname           TEXT NOT NULL DEFAULT '',
	cpu_percent        REAL NOT NULL DEFAULT 0,
	mem_percent        REAL NOT NULL DEFAULT 0,
	disk_percent       REAL NOT NULL DEFAULT 0,
	guest_total        INTEGER NOT NULL DEFAULT 0,
	guest_running      INTEGER NOT NULL DEFAULT 0,
	cloudflared_status TEXT NOT NULL DEFAULT '',
	body               BLOB NOT NULL
);

CREATE INDEX host_reports_host_received ON host_reports (host_id, received_at);
CREATE INDEX host_reports_received ON host_reports (received_at);
