-- A dashboard that tells the truth (issue 18).
--
-- unread_metrics: the metrics a report did not give readably, as a bit set
-- (1 CPU, 2 memory, 4 disk). Their columns hold 0 then, which the fleet
-- table, the charts and the rollups must not show as a real 0 %. Reports
-- stored before this migration count as read: nobody can tell now.
ALTER TABLE reports ADD COLUMN unread_metrics INTEGER NOT NULL DEFAULT 0;
ALTER TABLE host_reports ADD COLUMN unread_metrics INTEGER NOT NULL DEFAULT 0;

-- check_problems: the report's checks that did not pass, as a short JSON
-- list of {name, status, note}, so that the fleet can say why a node is
-- red without reading report bodies. '' for none.
ALTER TABLE reports ADD COLUMN check_problems TEXT NOT NULL DEFAULT '';

-- How many samples of each metric in a rollup bucket were unread: the
-- average divides by the samples that were read.
ALTER TABLE metric_rollups ADD COLUMN cpu_unread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups ADD COLUMN mem_unread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_rollups ADD COLUMN disk_unread INTEGER NOT NULL DEFAULT 0;
