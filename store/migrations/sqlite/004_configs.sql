-- Customer configs gain infrastructure tokens, legacy monitoring UUIDs and
-- free-form overrides. Sealed columns are '' when the value is empty.
ALTER TABLE customer_configs ADD COLUMN cloudflare_tunnel_token_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_configs ADD COLUMN legacy_heartbeat_uuid TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_configs ADD COLUMN legacy_backup_uuid TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_configs ADD COLUMN overrides_yaml_sealed TEXT NOT NULL DEFAULT '';

-- Disaster-recovery snapshots posted by controllers: the body as received,
-- sealed (it holds restic passwords and the full controller.yaml). The
-- latest few per customer are kept.
CREATE TABLE infra_backups (
	id          INTEGER PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers (id),
	created_at  INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	body_sealed TEXT NOT NULL
);

CREATE INDEX infra_backups_customer ON infra_backups (customer_id, id);

-- The last good controller.yaml template fetched from template_url: one row.
CREATE TABLE config_templates (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	body       TEXT NOT NULL,
	source_url TEXT NOT NULL DEFAULT '',
	fetched_at INTEGER NOT NULL
);
