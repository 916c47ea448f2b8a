-- Every operator action on customers and controllers: who, what, when, and
-- how it ended. Details never hold secrets.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	customer_id TEXT NOT NULL DEFAULT '',
	result      TEXT NOT NULL CHECK (result IN ('ok', 'error')),
	detail      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_customer ON audit_log (customer_id, id);

-- The newest controller release the registry watcher found, per image.
CREATE TABLE controller_versions (
	image      TEXT PRIMARY KEY,
	version    TEXT NOT NULL,
	checked_at INTEGER NOT NULL
);
