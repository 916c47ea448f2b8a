-- Leases (several replicas on one database): a job that must run on one
-- replica at a time runs on the owner of its lease. The owner renews it
-- before expires_at (unix ms); once that has passed, any replica may take it.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
