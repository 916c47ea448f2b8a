-- Alert noise control (SPEC §7.1). Fleet events (fleet_incident,
-- fleet_incident_resolved) belong to no customer: events.customer_id
-- becomes nullable, keeping its foreign key for every other event. SQLite
-- cannot drop a NOT NULL, so the table is rebuilt with the same columns,
-- ids and indexes. subject_id names the node (customer id) or host (host
-- id) of a dead man's switch event, so that flapping is counted per node
-- and per host.
CREATE TABLE events_noise (
	id            INTEGER PRIMARY KEY,
	customer_id   TEXT REFERENCES customers (id),
	event_type    TEXT NOT NULL,
	severity      TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
	source        TEXT NOT NULL CHECK (source IN ('controller', 'hub')),
	message       TEXT NOT NULL,
	details       TEXT,
	occurred_at   INTEGER NOT NULL,
	received_at   INTEGER NOT NULL,
	dedupe_key    TEXT,
	dispatched_at INTEGER,
	problems      TEXT NOT NULL DEFAULT '',
	subject_id    TEXT
);
INSERT INTO events_noise (id, customer_id, event_type, severity, source, message, details,
		occurred_at, received_at, dedupe_key, dispatched_at, problems)
	SELECT id, customer_id, event_type, severity, source, message, details,
		occurred_at, received_at, dedupe_key, dispatched_at, problems FROM events;
DROP TABLE events;
ALTER TABLE events_noise RENAME TO events;

CREATE UNIQUE INDEX events_dedupe_key ON events (dedupe_key);
CREATE INDEX events_customer_occurred ON events (customer_id, occurred_at);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_undispatched ON events (id) WHERE dispatched_at IS NULL;
CREATE INDEX events_subject_occurred ON events (subject_id, occurred_at) WHERE subject_id IS NOT NULL;

-- Fleet incidents: many nodes going stale together. At most one is open
-- (resolved_at NULL) at a time; the staleness checker, under its lease,
-- opens, grows and resolves it. back counts the members reporting again,
-- last_return_at is when that count last grew.
CREATE TABLE fleet_incidents (
	id              INTEGER PRIMARY KEY,
	scope           TEXT NOT NULL DEFAULT 'fleet',
	opened_at       INTEGER NOT NULL,
	resolved_at     INTEGER,
	reporting       INTEGER NOT NULL,
	back            INTEGER NOT NULL DEFAULT 0,
	last_return_at  INTEGER
);
CREATE UNIQUE INDEX fleet_incidents_one_open ON fleet_incidents (scope) WHERE resolved_at IS NULL;

-- The nodes of an incident, by customer id (no foreign key: an incident
-- outlives a customer deleted meanwhile, as the events do until pruned).
CREATE TABLE fleet_incident_members (
	incident_id INTEGER NOT NULL REFERENCES fleet_incidents (id) ON DELETE CASCADE,
	customer_id TEXT NOT NULL,
	joined_at   INTEGER NOT NULL,
	PRIMARY KEY (incident_id, customer_id)
);
CREATE INDEX fleet_incident_members_customer ON fleet_incident_members (customer_id);

-- Flapping episodes of nodes (subject = customer id) and hosts (host id):
-- at most one open (ended_at NULL) per subject.
CREATE TABLE flap_episodes (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL CHECK (kind IN ('node', 'host')),
	subject_id  TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	name        TEXT NOT NULL,
	started_at  INTEGER NOT NULL,
	ended_at    INTEGER
);
CREATE UNIQUE INDEX flap_episodes_one_open ON flap_episodes (kind, subject_id) WHERE ended_at IS NULL;
CREATE INDEX flap_episodes_ended ON flap_episodes (ended_at);

-- A customer mail held for the digest window: the JSON list of the mails
-- it holds (NULL for every other outbox row). Later mails of the customer
-- within the window are folded into it until it is first claimed.
ALTER TABLE notification_outbox ADD COLUMN digest TEXT;
