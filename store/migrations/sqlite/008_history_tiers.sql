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

-- Report bodies, one row per report, apart from the report's row of
-- metrics: the metrics stay dense and quick to scan, and the compactor can
-- replace a body by deleting and inserting it again, which lets SQLite
-- merge the pages a shrinking body leaves half empty (an in-place UPDATE
-- never does). keyframe_id NULL: the body stands alone (zstd); otherwise
-- it is a delta against that keyframe, which the foreign key keeps for as
-- long as a body needs it. Reports stored before this migration keep their
-- body in reports.body (plain JSON or zstd) until the compactor moves it or
-- the prune deletes the report; new reports leave reports.body empty. A report with neither had its body
-- dropped past retention.full_days; its row stays for its metrics.
CREATE TABLE report_bodies (
	report_id   INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
	keyframe_id INTEGER REFERENCES body_keyframes (id),
	body        BLOB NOT NULL
);
CREATE INDEX report_bodies_keyframe ON report_bodies (keyframe_id) WHERE keyframe_id IS NOT NULL;

CREATE TABLE host_report_bodies (
	report_id   INTEGER PRIMARY KEY REFERENCES host_reports (id) ON DELETE CASCADE,
	keyframe_id INTEGER REFERENCES body_keyframes (id),
	body        BLOB NOT NULL
);
CREATE INDEX host_report_bodies_keyframe ON host_report_bodies (keyframe_id) WHERE keyframe_id IS NOT NULL;

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
