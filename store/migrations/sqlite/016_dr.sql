-- Disaster-recovery readiness (SPEC §7.3): each managed customer's last
-- grade, so that a grade change raises its event once, also across
-- restarts and replicas. reasons is a JSON array of {code, message};
-- bundle_at is NULL when the customer has no bundle.
CREATE TABLE dr_readiness (
	customer_id TEXT PRIMARY KEY,
	grade       TEXT NOT NULL,
	reasons     TEXT NOT NULL,
	bundle_at   INTEGER,
	checked_at  INTEGER NOT NULL,
	changed_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Single-use recovery links: only the SHA-256 of the token is kept.
-- used_at is set once, by the one request that consumes the link.
CREATE TABLE recovery_links (
	id          INTEGER PRIMARY KEY,
	customer_id TEXT NOT NULL,
	token_hash  TEXT NOT NULL UNIQUE,
	reason      TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	used_at     INTEGER
);

-- Every retrieval of /config/{id} and /recovery/{id}, by password or by
-- link, successful or not. Never a password or a token.
CREATE TABLE retrievals (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	customer_id TEXT NOT NULL,
	resource    TEXT NOT NULL,
	via         TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	client      TEXT NOT NULL,
	detail      TEXT NOT NULL
);

CREATE INDEX retrievals_customer ON retrievals (customer_id, id);
