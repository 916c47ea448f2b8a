-- The tolerant reader (SPEC §2.2): the fields of a stored body that could
-- not be read, as a JSON array of {path, reason}; '' when there were none.
ALTER TABLE reports ADD COLUMN problems TEXT NOT NULL DEFAULT '';
ALTER TABLE host_reports ADD COLUMN problems TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN problems TEXT NOT NULL DEFAULT '';
-- An infra-backup with problems is stored but incomplete; the newest
-- complete one is never pruned for newer incomplete ones.
ALTER TABLE infra_backups ADD COLUMN problems TEXT NOT NULL DEFAULT '';
