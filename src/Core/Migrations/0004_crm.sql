-- Contacts and campaigns: tenant tables under row-level security (see 0003_identity.sql).
--
-- Both are soft-deleted (deleted_at) so later features can still resolve an id they hold; every index the
-- API reads through is partial on deleted_at IS NULL. version is the ETag: every write bumps it.

-- A LIKE pattern matching strings that start with p, case-insensitively (compare against lower(col)).
-- Escapes the wildcards so a search for "50%_off" means exactly that.
CREATE FUNCTION app.like_prefix(p text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT replace(replace(replace(lower(p), '\', '\\'), '%', '\%'), '_', '\_') || '%' $$;

CREATE TABLE contacts (
    workspace_id  uuid        NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    id            uuid        NOT NULL,  -- UUIDv7: newest first is id DESC
    email         text        NOT NULL,
    name          text,
    phone         text,
    company       text,
    status        text        NOT NULL CHECK (status IN ('active', 'unsubscribed', 'bounced', 'archived')),
    tags          text[]      NOT NULL DEFAULT '{}',
    version       integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    PRIMARY KEY (workspace_id, id)
);

-- One live contact per address and workspace; a soft delete frees the address.
CREATE UNIQUE INDEX contacts_email_unique ON contacts (workspace_id, lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX contacts_live ON contacts (workspace_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX contacts_status ON contacts (workspace_id, status, id DESC) WHERE deleted_at IS NULL;
-- Prefix search (q): text_pattern_ops serves LIKE 'abc%' whatever the collation.
CREATE INDEX contacts_name_prefix ON contacts (workspace_id, lower(name) text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX contacts_email_prefix ON contacts (workspace_id, lower(email) text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX contacts_tags ON contacts USING gin (tags) WHERE deleted_at IS NULL;

CREATE TABLE campaigns (
    workspace_id  uuid        NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    id            uuid        NOT NULL,
    name          text        NOT NULL,
    subject       text        NOT NULL,
    body          text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'completed', 'cancelled')),
    audience      jsonb       NOT NULL DEFAULT '{}',  -- a contact filter: {q?, tag?, status?}
    scheduled_at  timestamptz,
    version       integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    PRIMARY KEY (workspace_id, id),
    CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL)
);
CREATE INDEX campaigns_live ON campaigns (workspace_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX campaigns_status ON campaigns (workspace_id, status, id DESC) WHERE deleted_at IS NULL;

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON contacts
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());
CREATE POLICY tenant ON campaigns
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());

GRANT EXECUTE ON FUNCTION app.like_prefix(text) TO agentcrm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON contacts, campaigns TO agentcrm_app;
