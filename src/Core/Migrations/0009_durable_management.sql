-- Managing orchestrations over HTTP (issue 6): workspace isolation of the task hub, and what a rewind needs.
--
-- Row-level security on the rows a workspace can name. The engine's workers run without app.workspace_id
-- and see every row; a management request sets it (as TenantSession does) and then sees its workspace's
-- instances and dead letters only, even where the code's own scope filter were missing.
-- (The setting is compared as text: a scope is a workspace id, but need not parse as one for the engine.)
ALTER TABLE dt.instances ENABLE ROW LEVEL SECURITY;
CREATE POLICY engine ON dt.instances USING (coalesce(current_setting('app.workspace_id', true), '') = '');
CREATE POLICY tenant ON dt.instances USING (scope = current_setting('app.workspace_id', true))
    WITH CHECK (scope = current_setting('app.workspace_id', true));

ALTER TABLE dt.dead_letters ADD COLUMN IF NOT EXISTS scope text;
ALTER TABLE dt.dead_letters ENABLE ROW LEVEL SECURITY;
CREATE POLICY engine ON dt.dead_letters USING (coalesce(current_setting('app.workspace_id', true), '') = '');
CREATE POLICY tenant ON dt.dead_letters USING (scope = current_setting('app.workspace_id', true))
    WITH CHECK (scope = current_setting('app.workspace_id', true));

-- A workspace's instances, newest first: the query endpoint's keyset order.
CREATE INDEX instances_scope_created ON dt.instances (scope, created_at DESC, instance_id DESC) WHERE scope IS NOT NULL;

-- A TaskScheduled event keeps the task's options (queue, retry, timeouts) when they are not the defaults,
-- so a rewind can dispatch again an activity whose task row went with the failure.
ALTER TABLE dt.history ADD COLUMN options jsonb;
