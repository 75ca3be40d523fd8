-- Queue functions on the task hub (DESIGN.md §7; docs/queues.md): named queues of messages that handlers
-- registered in the app lease in batches, like Azure Storage queue triggers. A leased message's visible_at
-- moves with its lease (as Azure's visibility timeout does), so the dequeue index holds only what is ready
-- and a dead worker's message reappears by itself when its lease lapses.
CREATE TABLE dt.queue_messages (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue              text        NOT NULL CHECK (length(queue) BETWEEN 1 AND 100),
    payload            text        NOT NULL,
    dedupe_key         text,
    scope              text,                  -- the owning workspace, carried to dead letters
    visible_at         timestamptz NOT NULL DEFAULT now(),
    dequeue_count      integer     NOT NULL DEFAULT 0,
    lease_owner        text,
    lease_expires_at   timestamptz,
    lease_epoch        bigint      NOT NULL DEFAULT 0,   -- fencing token: completion and retry check it
    created_at         timestamptz NOT NULL DEFAULT now(),
    first_dequeued_at  timestamptz,
    last_error         jsonb
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);

CREATE INDEX queue_messages_ready ON dt.queue_messages (queue, visible_at, id);
-- A key is taken while its message exists (waiting, leased or retrying); once handled or dead-lettered it is free.
CREATE UNIQUE INDEX queue_messages_dedupe ON dt.queue_messages (queue, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Dead letters of queue messages keep what replay needs; scope lets the management API show a workspace only its own.
ALTER TABLE dt.dead_letters
    ALTER COLUMN instance_id DROP NOT NULL,
    ADD COLUMN scope text,
    ADD COLUMN queue text,
    ADD COLUMN payload text,
    ADD COLUMN message_id bigint,
    ADD COLUMN dequeue_count integer;

CREATE INDEX dead_letters_scope ON dt.dead_letters (scope, id);
CREATE INDEX dead_letters_queue ON dt.dead_letters (queue) WHERE queue IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON dt.queue_messages TO agentcrm_app;
GRANT USAGE, SELECT ON SEQUENCE dt.queue_messages_id_seq TO agentcrm_app;
