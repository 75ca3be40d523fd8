-- migration: no-transaction
-- Finished instances by completion time, for the durable.purge-retention housekeeping job: each batch reads
-- the oldest end only. Built concurrently so a large task hub keeps serving; neither column changes on the
-- lease and turn updates that make up most writes, so those stay HOT.
CREATE INDEX CONCURRENTLY IF NOT EXISTS instances_finished ON dt.instances (completed_at) WHERE status IN (2, 3, 4);
