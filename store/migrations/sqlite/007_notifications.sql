-- The notification choices a customer's controller syncs (POST
-- /api/v1/preferences). enabled_events is a JSON array of event types;
-- cooldown_hours NULL means the hub's default.
CREATE TABLE customer_notifications (
	customer_id    TEXT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	email          TEXT NOT NULL DEFAULT '',
	enabled_events TEXT NOT NULL DEFAULT '[]',
	cooldown_hours INTEGER CHECK (cooldown_hours BETWEEN 0 AND 168),
	updated_at     INTEGER NOT NULL
);

-- When a mail of each kind was last queued per channel and customer; the
-- key is an event type (or "relay:<subject>" for the legacy relay).
CREATE TABLE notification_cooldowns (
	channel      TEXT NOT NULL,
	customer_id  TEXT NOT NULL,
	cooldown_key TEXT NOT NULL,
	last_sent_at INTEGER NOT NULL,
	PRIMARY KEY (customer_id, channel, cooldown_key)
);

CREATE INDEX notification_cooldowns_last_sent ON notification_cooldowns (last_sent_at);

-- Every notification decision: skipped with a reason, or queued and then
-- sent or failed. event_id is NULL for a legacy relay; it has no foreign
-- key because events and this log are pruned separately.
CREATE TABLE notification_log (
	id          INTEGER PRIMARY KEY,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	channel     TEXT NOT NULL CHECK (channel IN ('operator', 'customer')),
	customer_id TEXT NOT NULL,
	event_id    INTEGER,
	event_type  TEXT NOT NULL,
	recipient   TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'skipped', 'failed')),
	reason      TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	attempts    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX notification_log_customer_created ON notification_log (customer_id, created_at);
CREATE INDEX notification_log_created ON notification_log (created_at);

-- The durable outbox: one row per queued mail until it is delivered (the
-- row is deleted) or given up on (state 'failed', kept for the dashboard
-- until its log row is pruned). A sender claims a row by setting
-- lease_owner and lease_until; an expired lease may be claimed again.
CREATE TABLE notification_outbox (
	id              INTEGER PRIMARY KEY,
	log_id          INTEGER NOT NULL REFERENCES notification_log (id) ON DELETE CASCADE,
	idempotency_key TEXT NOT NULL UNIQUE,
	channel         TEXT NOT NULL,
	customer_id     TEXT NOT NULL,
	recipient       TEXT NOT NULL,
	subject         TEXT NOT NULL,
	text_body       TEXT NOT NULL,
	html_body       TEXT NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT,
	lease_until     INTEGER,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL
);

CREATE INDEX notification_outbox_due ON notification_outbox (state, next_attempt_at);
CREATE INDEX notification_outbox_customer ON notification_outbox (customer_id, state);
CREATE INDEX notification_outbox_log ON notification_outbox (log_id);
