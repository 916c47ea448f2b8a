-- Silences and maintenance windows (SPEC §7.1). A host-scoped silence
-- carries its host's customer too; '' is "any". event_types is a JSON array
-- (empty: every type); recurrence is '' for a one-off silence or the JSON
-- of a weekly window in Europe/Budapest, bounded by starts_at..ends_at.
-- ended_at is set when an operator ends it early. Times are unix ms.
CREATE TABLE silences (
	id          INTEGER PRIMARY KEY,
	customer_id TEXT NOT NULL DEFAULT '',
	host_id     TEXT NOT NULL DEFAULT '',
	event_types TEXT NOT NULL DEFAULT '[]',
	starts_at   INTEGER NOT NULL,
	ends_at     INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	recurrence  TEXT NOT NULL DEFAULT '',
	author      TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	ended_at    INTEGER,
	ended_by    TEXT NOT NULL DEFAULT ''
);

CREATE INDEX silences_customer_ends ON silences (customer_id, ends_at);
CREATE INDEX silences_ends ON silences (ends_at);

-- The alerting record of a node or host while it is stale or down: the
-- silence that muted its latest alert, the one "still down after the
-- silence" mail, the acknowledgement, the reminders and the escalation.
-- episode is the time of the last report before the outage (unix ms,
-- whole seconds); a row of an older episode is stale and is reset. The
-- row goes when the recovery is dispatched.
CREATE TABLE alert_states (
	kind           TEXT NOT NULL CHECK (kind IN ('node', 'host')),
	watch_id       TEXT NOT NULL,
	customer_id    TEXT NOT NULL,
	episode        INTEGER NOT NULL,
	muted_by       INTEGER NOT NULL DEFAULT 0,
	followed_up_at INTEGER NOT NULL DEFAULT 0,
	acked_at       INTEGER NOT NULL DEFAULT 0,
	acked_by       TEXT NOT NULL DEFAULT '',
	ack_note       TEXT NOT NULL DEFAULT '',
	reminders      INTEGER NOT NULL DEFAULT 0,
	escalated_at   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, watch_id)
);

CREATE INDEX alert_states_customer ON alert_states (customer_id);

-- The silence of a notification skipped as silenced.
ALTER TABLE notification_log ADD COLUMN silence_id INTEGER;

-- The fleet's events, newest first (GET /api/v1/events, the Alerts page).
CREATE INDEX events_occurred ON events (occurred_at);
