-- Managing orchestrations over HTTP (issue 6): workspace isolation of the task hub, and what a rewind needs.
--
-- Row-level security on the rows a workspace can name, by role. The engine's workers run as the app
-- (agentcrm_app) and see every row. A management request takes on agentcrm_tenant for its transaction
-- (set_config('role', ...), as ScopedBatch does) and then sees the instances and dead letters of the
-- workspace in app.workspace_id only, even where the code's own scope filter were missing. Policies by role
-- rather than by setting keep the engine's hot statements free of any per-row check (measured: a check on
-- the setting cost the point update about 12%; a `true` policy costs nothing).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentcrm_tenant') OR NOT pg_has_role('agentcrm_app', 'agentcrm_tenant', 'MEMBER') THEN
        RAISE EXCEPTION 'role agentcrm_tenant is missing or not granted to agentcrm_app'
            USING HINT = 'As an administrator: CREATE ROLE agentcrm_tenant NOLOGIN; GRANT agentcrm_tenant TO agentcrm_app;';
    END IF;
END $$;

GRANT USAGE ON SCHEMA dt TO agentcrm_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON dt.instances, dt.inbox, dt.history, dt.tasks, dt.payloads, dt.dead_letters, dt.queue_messages TO agentcrm_tenant;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA dt TO agentcrm_tenant;

ALTER TABLE dt.instances ENABLE ROW LEVEL SECURITY;
CREATE POLICY engine ON dt.instances TO agentcrm_app USING (true);
CREATE POLICY tenant ON dt.instances TO agentcrm_tenant
    USING (scope = current_setting('app.workspace_id', true)) WITH CHECK (scope = current_setting('app.workspace_id', true));

ALTER TABLE dt.dead_letters ADD COLUMN IF NOT EXISTS scope text;
ALTER TABLE dt.dead_letters ENABLE ROW LEVEL SECURITY;
CREATE POLICY engine ON dt.dead_letters TO agentcrm_app USING (true);
CREATE POLICY tenant ON dt.dead_letters TO agentcrm_tenant
    USING (scope = current_setting('app.workspace_id', true)) WITH CHECK (scope = current_setting('app.workspace_id', true));

-- A TaskScheduled event keeps the task's options (queue, retry, timeouts) when they are not the defaults,
-- so a rewind can dispatch again an activity whose task row went with the failure.
ALTER TABLE dt.history ADD COLUMN options jsonb;
