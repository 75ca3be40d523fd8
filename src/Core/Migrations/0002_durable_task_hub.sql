-- The durable task hub (research/durable-engine.md §7.2). Schema dt; no foreign keys on hot tables;
-- every transaction touches tables in one order: instances, inbox, history, tasks, payloads.
CREATE SCHEMA dt;

-- One row per orchestration instance. Leases churn, so leave room on each page for HOT updates.
CREATE TABLE dt.instances (
    instance_id         text        PRIMARY KEY CHECK (length(instance_id) BETWEEN 1 AND 256),
    execution_id        uuid        NOT NULL,
    name                text        NOT NULL,
    version             text        NOT NULL DEFAULT '',
    status              smallint    NOT NULL,  -- 0 Pending 1 Running 2 Completed 3 Failed 4 Terminated 5 Suspended
    scope               text,                  -- the owning workspace, for management queries
    input_id            uuid,
    output_id           uuid,
    custom_status       text,
    failure             jsonb,
    parent_instance_id  text,
    parent_execution_id uuid,
    parent_task_id      integer,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    lease_owner         text,
    lease_expires_at    timestamptz,
    lease_epoch         bigint      NOT NULL DEFAULT 0,   -- fencing token: every write checks it
    dispatch_count      integer     NOT NULL DEFAULT 0,   -- turns leased without committing (poison guard)
    history_events      integer     NOT NULL DEFAULT 0,
    history_bytes       bigint      NOT NULL DEFAULT 0
) WITH (fillfactor = 75, autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX instances_status_created ON dt.instances (status, created_at);
CREATE INDEX instances_active_lease ON dt.instances (lease_expires_at) WHERE status IN (0, 1, 5);
CREATE INDEX instances_parent ON dt.instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;

-- Messages waiting for an instance: start, activity results, timers (visible_at in the future), events.
CREATE TABLE dt.inbox (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id   text        NOT NULL,
    execution_id  uuid,                      -- null: whichever execution is current
    kind          smallint    NOT NULL,
    task_id       integer     NOT NULL DEFAULT -1,
    name          text,
    payload_id    uuid,
    visible_at    timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    dedupe_key    text
) WITH (autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX inbox_instance ON dt.inbox (instance_id, id);
CREATE INDEX inbox_visible ON dt.inbox (visible_at);
CREATE UNIQUE INDEX inbox_dedupe ON dt.inbox (instance_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Append-only history per execution. The primary key is the last line against two workers writing one turn.
CREATE TABLE dt.history (
    instance_id   text        NOT NULL,
    execution_id  uuid        NOT NULL,
    seq           integer     NOT NULL,
    kind          smallint    NOT NULL,
    task_id       integer     NOT NULL,
    name          text,
    payload_id    uuid,
    ts            timestamptz NOT NULL,
    PRIMARY KEY (instance_id, execution_id, seq)
) WITH (fillfactor = 100);

-- Activity work: leased by workers per queue; retries wait here (attempt, visible_at), not in history.
CREATE TABLE dt.tasks (
    id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue                 text        NOT NULL,
    instance_id           text        NOT NULL,
    execution_id          uuid        NOT NULL,
    task_id               integer     NOT NULL,
    name                  text        NOT NULL,
    input_id              uuid,
    visible_at            timestamptz NOT NULL DEFAULT now(),
    attempt               integer     NOT NULL DEFAULT 1,
    dequeue_count         integer     NOT NULL DEFAULT 0,
    retry                 jsonb,
    start_to_close_ms     bigint,
    schedule_to_close_at  timestamptz,
    lease_owner           text,
    lease_expires_at      timestamptz,
    lease_epoch           bigint      NOT NULL DEFAULT 0,
    heartbeat_at          timestamptz,
    heartbeat_details     text,
    cancel_requested      boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    last_error            jsonb
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX tasks_ready ON dt.tasks (queue, visible_at, id);
CREATE UNIQUE INDEX tasks_instance ON dt.tasks (instance_id, execution_id, task_id);

-- Inputs, outputs and results, written once and referenced, so hot rows stay small.
CREATE TABLE dt.payloads (
    instance_id  text NOT NULL,
    id           uuid NOT NULL,
    data         text NOT NULL,
    PRIMARY KEY (instance_id, id)
);

-- Work that could not be processed (poison): kept for operators to inspect, replay or discard.
CREATE TABLE dt.dead_letters (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text        NOT NULL,   -- 'task' or 'instance'
    instance_id  text        NOT NULL,
    name         text        NOT NULL,
    detail       jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Raises DTL01 unless the caller still holds the instance's lease at this epoch and the instance has not
-- finished: every turn's first statement, so nothing is ever written to a finished instance.
CREATE FUNCTION dt.assert_instance_lease(p_instance text, p_owner text, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM dt.instances
     WHERE instance_id = p_instance AND lease_owner = p_owner AND lease_epoch = p_epoch AND status IN (0, 1, 5)
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lease on instance % lost (owner %, epoch %)', p_instance, p_owner, p_epoch USING ERRCODE = 'DTL01';
    END IF;
END $$;

CREATE FUNCTION dt.assert_task_lease(p_task bigint, p_owner text, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM dt.tasks
     WHERE id = p_task AND lease_owner = p_owner AND lease_epoch = p_epoch
     FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lease on task % lost (owner %, epoch %)', p_task, p_owner, p_epoch USING ERRCODE = 'DTL01';
    END IF;
END $$;
