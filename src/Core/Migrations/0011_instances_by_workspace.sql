-- migration: no-transaction
-- A workspace's instances, newest first: the management query's keyset order (docs/orchestrations.md). Built
-- concurrently so a large task hub keeps serving; none of its columns changes on lease or turn updates, so
-- those stay HOT.
CREATE INDEX CONCURRENTLY IF NOT EXISTS instances_scope_created ON dt.instances (scope, created_at DESC, instance_id DESC) WHERE scope IS NOT NULL;
