-- The state of the rate limits (hub.RateLimit), shared by every
-- replica: per key only its theoretical arrival time (GCRA), in unix
-- milliseconds. A row whose tat is past limits nothing and is deleted by
-- the prune. key never holds a secret.
CREATE TABLE rate_limits (
	key TEXT PRIMARY KEY,
	tat BIGINT NOT NULL
);

CREATE INDEX rate_limits_tat ON rate_limits (tat);
