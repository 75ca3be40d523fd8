-- The audit log (DESIGN.md §10): append-only, one hash chain per workspace. The platform chain (events
-- with no workspace) is the nil UUID, so the key stays (workspace_id, seq).
--
-- hash = sha256(prev_hash || utf8(jsonb_build_array(workspace_id, seq, id, occurred_at as UTC ISO-8601
-- with microseconds, event, actor_user_id, actor_key_id, ip, request_id, details)::text)); the first row's
-- prev_hash is 32 zero bytes (or the anchor's hash once older rows are pruned). jsonb text is canonical
-- (keys sorted, one spelling per value), and app.audit_row_hash is the one formula that append and verify
-- both use, so the two can never disagree.
--
-- Who may do what: the app has SELECT (tenant-scoped by RLS) and appends only through app.audit_append,
-- which assigns seq and hash itself; it cannot INSERT, UPDATE or DELETE rows directly. A trigger refuses
-- UPDATE, DELETE and TRUNCATE from anybody, the owner included, except deletes made by app.audit_prune.
-- An owner who disables the trigger can still change rows: the chain is what shows it.

CREATE TABLE audit_log (
    workspace_id   uuid        NOT NULL,
    seq            bigint      NOT NULL,
    id             uuid        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    event          text        NOT NULL,
    actor_user_id  uuid,
    actor_key_id   uuid,
    ip             text,
    request_id     text,
    details        jsonb       NOT NULL DEFAULT '{}',
    prev_hash      bytea       NOT NULL,
    hash           bytea       NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX audit_log_event ON audit_log (workspace_id, event, seq);
CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at); -- retention finds the workspaces with old rows

-- The end of each chain: appends lock this row, so appends to one workspace are serialised (gapless seq,
-- each row chained to the one before) while other workspaces append in parallel. Verification also checks
-- the last row against it, so a deleted tail shows.
CREATE TABLE audit_heads (
    workspace_id  uuid   PRIMARY KEY,
    seq           bigint NOT NULL,
    hash          bytea  NOT NULL
);

-- The last row each retention run removed: verification starts from the newest anchor, so the first kept
-- row still proves its link. Rows are only ever added (by app.audit_prune).
CREATE TABLE audit_anchors (
    workspace_id  uuid        NOT NULL,
    seq           bigint      NOT NULL,
    hash          bytea       NOT NULL,
    pruned_at     timestamptz NOT NULL,
    pruned_rows   bigint      NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);

CREATE FUNCTION app.audit_row_hash(
    p_prev_hash bytea, p_workspace_id uuid, p_seq bigint, p_id uuid, p_occurred_at timestamptz, p_event text,
    p_actor_user_id uuid, p_actor_key_id uuid, p_ip text, p_request_id text, p_details jsonb)
    RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(p_prev_hash || convert_to(jsonb_build_array(
        p_workspace_id, p_seq, p_id, to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), p_event,
        p_actor_user_id, p_actor_key_id, p_ip, p_request_id, p_details)::text, 'UTF8'))
$$;

CREATE FUNCTION app.audit_append(
    p_workspace_id uuid, p_id uuid, p_occurred_at timestamptz, p_event text,
    p_actor_user_id uuid, p_actor_key_id uuid, p_ip text, p_request_id text, p_details jsonb)
    RETURNS TABLE (seq bigint, hash bytea)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_seq bigint;
    v_prev bytea;
    v_hash bytea;
BEGIN
    -- Takes (or creates) the head row lock: the next seq and the previous hash in one statement.
    INSERT INTO audit_heads AS h (workspace_id, seq, hash) VALUES (p_workspace_id, 1, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    ON CONFLICT (workspace_id) DO UPDATE SET seq = h.seq + 1
    RETURNING h.seq, h.hash INTO v_seq, v_prev;

    v_hash := app.audit_row_hash(v_prev, p_workspace_id, v_seq, p_id, p_occurred_at, p_event,
        p_actor_user_id, p_actor_key_id, p_ip, p_request_id, coalesce(p_details, '{}'));
    INSERT INTO audit_log (workspace_id, seq, id, occurred_at, event, actor_user_id, actor_key_id, ip, request_id, details, prev_hash, hash)
    VALUES (p_workspace_id, v_seq, p_id, p_occurred_at, p_event, p_actor_user_id, p_actor_key_id, p_ip, p_request_id,
        coalesce(p_details, '{}'), v_prev, v_hash);
    UPDATE audit_heads h SET hash = v_hash WHERE h.workspace_id = p_workspace_id;
    RETURN QUERY SELECT v_seq, v_hash;
END $$;

-- Recomputes chains: one workspace, or every chain when p_workspace_id is NULL. Runs with the caller's
-- rights, so the app (under RLS) checks only its own workspace; the CLI, as the owner, checks all.
-- The first broken link is the lowest seq whose number, prev_hash or hash is not what the row before it
-- (or the anchor) and its own contents imply; a chain that ends before its head is broken at the next seq.
CREATE FUNCTION app.audit_verify(p_workspace_id uuid)
    RETURNS TABLE (workspace_id uuid, valid boolean, checked bigint, first_broken_seq bigint, reason text)
    LANGUAGE sql STABLE AS $$
    WITH heads AS (
        SELECT h.workspace_id, h.seq AS head_seq, h.hash AS head_hash
        FROM audit_heads h WHERE p_workspace_id IS NULL OR h.workspace_id = p_workspace_id
    ), anchors AS (
        SELECT DISTINCT ON (a.workspace_id) a.workspace_id, a.seq, a.hash
        FROM audit_anchors a WHERE p_workspace_id IS NULL OR a.workspace_id = p_workspace_id
        ORDER BY a.workspace_id, a.seq DESC
    ), links AS (
        SELECT l.workspace_id, l.seq, l.hash,
               coalesce(lag(l.seq) OVER w, an.seq, 0) + 1 AS expected_seq,
               coalesce(lag(l.hash) OVER w, an.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) AS expected_prev,
               l.prev_hash,
               app.audit_row_hash(l.prev_hash, l.workspace_id, l.seq, l.id, l.occurred_at, l.event,
                   l.actor_user_id, l.actor_key_id, l.ip, l.request_id, l.details) AS recomputed
        FROM audit_log l LEFT JOIN anchors an ON an.workspace_id = l.workspace_id
        WHERE p_workspace_id IS NULL OR l.workspace_id = p_workspace_id
        WINDOW w AS (PARTITION BY l.workspace_id ORDER BY l.seq)
    ), faults AS (
        SELECT DISTINCT ON (k.workspace_id) k.workspace_id, least(k.seq, k.expected_seq) AS seq,
               CASE WHEN k.seq <> k.expected_seq THEN format('seq %s is missing', k.expected_seq)
                    WHEN k.prev_hash <> k.expected_prev THEN 'prev_hash does not match the previous row''s hash'
                    ELSE 'hash does not match the row''s contents' END AS reason
        FROM links k
        WHERE k.seq <> k.expected_seq OR k.prev_hash <> k.expected_prev OR k.hash <> k.recomputed
        ORDER BY k.workspace_id, k.seq
    ), tails AS (
        SELECT k.workspace_id, count(*) AS checked, max(k.seq) AS last_seq,
               (array_agg(k.hash ORDER BY k.seq DESC))[1] AS last_hash
        FROM links k GROUP BY k.workspace_id
    )
    SELECT h.workspace_id,
           f.seq IS NULL AND coalesce(t.last_seq, an.seq, 0) = h.head_seq
               AND coalesce(t.last_hash, an.hash) IS NOT DISTINCT FROM h.head_hash,
           coalesce(t.checked, 0),
           coalesce(f.seq, CASE WHEN coalesce(t.last_seq, an.seq, 0) <> h.head_seq
                                  OR coalesce(t.last_hash, an.hash) IS DISTINCT FROM h.head_hash
                                THEN coalesce(t.last_seq, an.seq, 0) + 1 END),
           coalesce(f.reason, CASE WHEN coalesce(t.last_seq, an.seq, 0) <> h.head_seq
                                     OR coalesce(t.last_hash, an.hash) IS DISTINCT FROM h.head_hash
                                   THEN format('the chain ends at seq %s but its head is at seq %s', coalesce(t.last_seq, an.seq, 0), h.head_seq) END)
    FROM heads h
    LEFT JOIN faults f ON f.workspace_id = h.workspace_id
    LEFT JOIN tails t ON t.workspace_id = h.workspace_id
    LEFT JOIN anchors an ON an.workspace_id = h.workspace_id
    ORDER BY h.workspace_id
$$;

-- Append-only: no UPDATE, DELETE or TRUNCATE, except deletes inside app.audit_prune (which sets the flag
-- for its own transaction and always anchors what it removes).
CREATE FUNCTION app.audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('agentcrm.audit_pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION app.audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION app.audit_refuse_change();
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors
    FOR EACH ROW EXECUTE FUNCTION app.audit_refuse_change();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION app.audit_refuse_change();

-- Retention: removes, per chain, the rows before the first one that occurred at or after p_cutoff (a
-- prefix by seq, so the rest stays one unbroken chain) and anchors the last removed row first. At most
-- p_max_workspaces chains per call, so one call stays one short transaction; the job calls until done.
CREATE FUNCTION app.audit_prune(p_cutoff timestamptz, p_max_workspaces integer)
    RETURNS TABLE (workspace_id uuid, anchor_seq bigint, pruned_rows bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_workspace uuid;
    v_last_seq bigint;
    v_last_hash bytea;
    v_deleted bigint;
BEGIN
    PERFORM set_config('agentcrm.audit_pruning', 'on', true);
    FOR v_workspace IN
        -- Chains whose first row is past the cutoff: one index probe per chain, and each one found prunes.
        SELECT h.workspace_id FROM audit_heads h
        WHERE (SELECT l.occurred_at FROM audit_log l WHERE l.workspace_id = h.workspace_id ORDER BY l.seq LIMIT 1) < p_cutoff
        LIMIT p_max_workspaces
    LOOP
        -- Hold the head while pruning, so no append interleaves with the anchor.
        PERFORM 1 FROM audit_heads h WHERE h.workspace_id = v_workspace FOR UPDATE;
        SELECT l.seq, l.hash INTO v_last_seq, v_last_hash
        FROM audit_log l
        WHERE l.workspace_id = v_workspace
          AND l.seq < coalesce((SELECT min(k.seq) FROM audit_log k WHERE k.workspace_id = v_workspace AND k.occurred_at >= p_cutoff), 9223372036854775807)
        ORDER BY l.seq DESC LIMIT 1;
        DELETE FROM audit_log l WHERE l.workspace_id = v_workspace AND l.seq <= v_last_seq;
        GET DIAGNOSTICS v_deleted = ROW_COUNT;
        INSERT INTO audit_anchors (workspace_id, seq, hash, pruned_at, pruned_rows)
        VALUES (v_workspace, v_last_seq, v_last_hash, now(), v_deleted);
        workspace_id := v_workspace;
        anchor_seq := v_last_seq;
        pruned_rows := v_deleted;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('agentcrm.audit_pruning', 'off', true);
END $$;

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_anchors ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_log USING (workspace_id = app.workspace_id());
CREATE POLICY tenant ON audit_heads USING (workspace_id = app.workspace_id());
CREATE POLICY tenant ON audit_anchors USING (workspace_id = app.workspace_id());

REVOKE ALL ON FUNCTION app.audit_append(uuid, uuid, timestamptz, text, uuid, uuid, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.audit_prune(timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.audit_verify(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.audit_row_hash(bytea, uuid, bigint, uuid, timestamptz, text, uuid, uuid, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.audit_append(uuid, uuid, timestamptz, text, uuid, uuid, text, text, jsonb),
    app.audit_prune(timestamptz, integer), app.audit_verify(uuid),
    app.audit_row_hash(bytea, uuid, bigint, uuid, timestamptz, text, uuid, uuid, text, text, jsonb) TO agentcrm_app;
-- Read only: rows arrive through app.audit_append and leave through app.audit_prune.
GRANT SELECT ON audit_log, audit_heads, audit_anchors TO agentcrm_app;
