-- Key rotation with a grace period (SPEC §2.1): after a rotation the key
-- the node was last seen using stays valid until previous_api_key_valid_until
-- (unix ms) or until the node first authenticates with the new key, which
-- sets api_key_confirmed_at. Only its hash and its sealed value are kept,
-- like the current key's.
ALTER TABLE customer_configs ADD COLUMN previous_api_key_hash TEXT;
ALTER TABLE customer_configs ADD COLUMN previous_api_key_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_configs ADD COLUMN previous_api_key_valid_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_configs ADD COLUMN api_key_rotated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_configs ADD COLUMN api_key_confirmed_at BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX customer_configs_previous_api_key_hash ON customer_configs (previous_api_key_hash);

-- Reports refused for a customer that exists (unknown key, another
-- customer's key), counted per hour (hour = unix ms of its start) so that
-- the customer page can say how many in the last 24 h. Replicas add their
-- counts; rows older than a day are deleted when the customer's counts are
-- next written. Never holds a key or any part of one.
CREATE TABLE refused_reports (
	customer_id TEXT NOT NULL,
	hour        BIGINT NOT NULL,
	refused     BIGINT NOT NULL,
	last_at     BIGINT NOT NULL,
	last_reason TEXT NOT NULL,
	PRIMARY KEY (customer_id, hour)
);
