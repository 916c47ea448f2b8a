-- History tiers (issue 10): full bodies for retention.full_days, one point
-- per report for 7 days, hourly rollups for 30 days, daily rollups for
-- retention.max_days. Additive only; existing rows are converted in the
-- background, in small batches, tracked in history_progress.

-- A keyframe is the first report of a subject's UTC day, compressed on its
-- own. The day's other report bodies are zstd frames that use it as a raw
-- dictionary: each is a few hundred bytes instead of a few kilobytes.
CREATE TABLE body_keyframes (
	id         INTEGER PRIMARY KEY,
	stream     TEXT NOT NULL CHECK (stream IN ('reports', 'host_reports')),
	subject_id TEXT NOT NULL,
	day        INTEGER NOT NULL,
	body       BLOB NOT NULL,
	UNIQUE (stream, subject_id, day)
);

-- NULL: the body stands alone (zstd, or plain JSON from older versions).
-- Otherwise the body is a delta against this keyframe; the foreign key
-- keeps a keyframe for as long as a report needs it. An empty body was
-- dropped past retention.full_days; the row stays for its metrics.
ALTER TABLE reports ADD COLUMN body_keyframe_id INTEGER REFERENCES body_keyframes (id);
ALTER TABLE host_reports ADD COLUMN body_keyframe_id INTEGER REFERENCES body_keyframes (id);
CREATE INDEX reports_body_keyframe ON reports (body_keyframe_id) WHERE body_keyframe_id IS NOT NULL;
CREATE INDEX host_reports_body_keyframe ON host_reports (body_keyframe_id) WHERE body_keyframe_id IS NOT NULL;

-- Hourly and daily rollups of the denormalized metrics. Averages are
-- stored as sums so that folding more reports in is an upsert.
CREATE TABLE metric_rollups (
	stream       TEXT NOT NULL CHECK (stream IN ('reports', 'host_reports')),
	subject_id   TEXT NOT NULL,
	resolution   TEXT NOT NULL CHECK (resolution IN ('hourly', 'daily')),
	bucket_start INTEGER NOT NULL,
	samples      INTEGER NOT NULL,
	cpu_sum      REAL NOT NULL,
	cpu_max      REAL NOT NULL,
	mem_sum      REAL NOT NULL,
	mem_max      REAL NOT NULL,
	disk_sum     REAL NOT NULL,
	disk_max     REAL NOT NULL,
	PRIMARY KEY (stream, subject_id, resolution, bucket_start)
) WITHOUT ROWID;

CREATE INDEX metric_rollups_bucket ON metric_rollups (resolution, bucket_start);

-- How far each background step has got, by report id. Rollup and
-- compaction walk each stream in id order from 0, so an existing database
-- gets its rollups and its bodies converted by the same steps that keep up
-- with new reports; a report is pruned only once it is rolled up.
CREATE TABLE history_progress (
	step    TEXT PRIMARY KEY,
	last_id INTEGER NOT NULL
);

INSERT INTO history_progress (step, last_id) VALUES
	('rollup:reports', 0), ('rollup:host_reports', 0),
	('compact:reports', 0), ('compact:host_reports', 0);
