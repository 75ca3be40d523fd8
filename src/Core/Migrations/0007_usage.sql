-- Usage per workspace and UTC day (DESIGN.md §6): API calls, copied from Redis counters by the
-- usage.flush-api-calls housekeeping job, and AI tokens, recorded here exactly, one row per model call.
-- Both are tenant tables under row-level security (see 0003_identity.sql).
--
-- API calls are totals, not deltas: the flush writes the larger of the stored and the counted total, so a
-- flush that runs twice or dies half-way never counts a call twice, and a counter Redis lost is seeded
-- from here. AI tokens are billed: the app may only append rows (no UPDATE or DELETE), and a caller that
-- passes its own id for a step (a workflow activity, say) cannot record the same step twice.

CREATE TABLE usage_daily (
    workspace_id  uuid        NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    day           date        NOT NULL,
    api_calls     bigint      NOT NULL CHECK (api_calls >= 0),
    flushed_at    timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, day)
);

CREATE TABLE ai_usage (
    workspace_id   uuid          NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    id             uuid          NOT NULL,
    day            date          NOT NULL,  -- the UTC day of occurred_at: what the daily budget counts
    occurred_at    timestamptz   NOT NULL,
    agent          text          NOT NULL,
    endpoint       text          NOT NULL,
    model          text          NOT NULL,
    input_tokens   integer       NOT NULL CHECK (input_tokens >= 0),
    output_tokens  integer       NOT NULL CHECK (output_tokens >= 0),
    cost           numeric(18,6) NOT NULL CHECK (cost >= 0),
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX ai_usage_day ON ai_usage (workspace_id, day);

ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON usage_daily
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());
CREATE POLICY tenant ON ai_usage
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());

-- The flush writes many workspaces' totals in one statement, and the edge reads one workspace's total
-- before any tenant transaction exists: both run as the owner and touch nothing but usage_daily.
-- Workspaces deleted since their calls were counted are skipped.
CREATE FUNCTION app.flush_api_calls(p_day date, p_workspaces uuid[], p_calls bigint[])
    RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_rows integer;
BEGIN
    INSERT INTO usage_daily AS u (workspace_id, day, api_calls, flushed_at)
    SELECT c.workspace_id, p_day, c.calls, now()
    FROM unnest(p_workspaces, p_calls) AS c (workspace_id, calls)
    WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = c.workspace_id)
    ON CONFLICT (workspace_id, day) DO UPDATE
        SET api_calls = GREATEST(u.api_calls, excluded.api_calls), flushed_at = excluded.flushed_at;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END $$;

CREATE FUNCTION app.api_calls_on(p_workspace_id uuid, p_day date)
    RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce((SELECT api_calls FROM usage_daily WHERE workspace_id = p_workspace_id AND day = p_day), 0)
$$;

REVOKE ALL ON FUNCTION app.flush_api_calls(date, uuid[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.api_calls_on(uuid, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.flush_api_calls(date, uuid[], bigint[]), app.api_calls_on(uuid, date) TO agentcrm_app;
GRANT SELECT ON usage_daily TO agentcrm_app;
GRANT SELECT, INSERT ON ai_usage TO agentcrm_app;
