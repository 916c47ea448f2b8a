-- The fleet view (store/fleetview.go): every change to what the fleet
-- listing shows of a customer (a report, its config created, changed,
-- blocked, rotated or deleted) adds one to view_rev and stamps changed_at
-- (unix ms) in the same transaction, so that every replica's view can find
-- what changed since it last looked with one indexed range read.
ALTER TABLE customers ADD COLUMN view_rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX customers_changed_at ON customers (changed_at);
