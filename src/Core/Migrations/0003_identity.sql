-- Identity and tenancy: users, refresh tokens, workspaces, members, invitations, API keys, and the
-- app role that row-level security binds.
--
-- The app connects as a login that owns nothing and holds agentcrm_app (DESIGN.md §4). Tables are
-- owned by whoever migrates, so policies apply to every statement the app runs. Tenant tables carry
-- workspace_id first in their primary key and are visible only when the transaction has set
-- app.workspace_id (set_config(..., true), i.e. SET LOCAL): a query without it sees no rows.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentcrm_app') THEN
        BEGIN
            CREATE ROLE agentcrm_app NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL; -- another database's migration made it first
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'role agentcrm_app is missing and % may not create it', current_user
                    USING HINT = 'As an administrator: CREATE ROLE agentcrm_app NOLOGIN; GRANT agentcrm_app TO <the app''s login>;';
        END;
    END IF;
END $$;

-- The request's tenant and user, as the request's transaction set them. Empty or unset is NULL, which
-- matches nothing.
CREATE SCHEMA app;
CREATE FUNCTION app.workspace_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.workspace_id', true), '')::uuid $$;
CREATE FUNCTION app.user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    email               text        NOT NULL,
    email_normalized    text        NOT NULL UNIQUE,
    display_name        text        NOT NULL,
    password_hash       text,       -- NULL for a user known only through an external issuer
    failed_logins       integer     NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    active_workspace_id uuid,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

-- A user signed in through an external OIDC issuer (Entra ID, Supabase), by that issuer's subject.
CREATE TABLE user_identities (
    issuer      text        NOT NULL,
    subject     text        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- Opaque refresh tokens, stored as SHA-256 of the secret. A rotation marks the old row rotated; a
-- rotated token presented again revokes its whole family (the login it descends from).
CREATE TABLE refresh_tokens (
    token_hash      bytea       PRIMARY KEY,
    family_id       uuid        NOT NULL,
    user_id         uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    workspace_id    uuid,
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    rotated_at      timestamptz,
    revoked_at      timestamptz,
    revoked_reason  text
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE workspaces (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL,
    tier        text        NOT NULL DEFAULT 'FREE' CHECK (tier IN ('FREE', 'STARTER', 'PRO', 'ENTERPRISE')),
    created_by  uuid        NOT NULL REFERENCES users,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id  uuid        NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    user_id       uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    role          text        NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE workspace_invitations (
    workspace_id      uuid        NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    id                uuid        NOT NULL,
    email_normalized  text        NOT NULL,
    role              text        NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_hash        bytea       NOT NULL UNIQUE,
    invited_by        uuid        NOT NULL REFERENCES users,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    accepted_at       timestamptz,
    accepted_by       uuid        REFERENCES users,
    revoked_at        timestamptz,
    PRIMARY KEY (workspace_id, id)
);

-- Workspace API keys: `<prefix>_<secret>`. The prefix is public and unique; the secret (32 random
-- bytes) is stored as SHA-256, which is enough for a high-entropy secret and costs nothing per call.
CREATE TABLE api_keys (
    workspace_id  uuid        NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    id            uuid        NOT NULL,
    prefix        text        NOT NULL UNIQUE,
    secret_hash   bytea       NOT NULL,
    name          text        NOT NULL,
    scopes        text[]      NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin'] AND cardinality(scopes) > 0),
    created_by    uuid        REFERENCES users,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (workspace_id, id)
);

ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;

-- A user sees the workspaces and memberships that are theirs (to list them and to choose one); every
-- other row only inside its own workspace's transaction. Writes only ever inside it: the wider
-- policies are FOR SELECT, so a transaction scoped to one workspace cannot touch another's rows.
CREATE POLICY tenant ON workspaces
    USING (id = app.workspace_id()) WITH CHECK (id = app.workspace_id());
CREATE POLICY member_reads ON workspaces FOR SELECT
    USING (id IN (SELECT m.workspace_id FROM workspace_members m WHERE m.user_id = app.user_id()));
CREATE POLICY tenant ON workspace_members
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());
CREATE POLICY member_reads ON workspace_members FOR SELECT
    USING (user_id = app.user_id());
CREATE POLICY tenant ON workspace_invitations
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());
CREATE POLICY tenant ON api_keys
    USING (workspace_id = app.workspace_id()) WITH CHECK (workspace_id = app.workspace_id());

-- Before the workspace is known, a credential must be found by its secret alone. These two run as the
-- owner (past RLS) and reveal only the row whose secret the caller holds.
CREATE FUNCTION app.authenticate_api_key(p_prefix text, p_secret_hash bytea, p_now timestamptz)
    RETURNS TABLE (workspace_id uuid, key_id uuid, scopes text[], tier text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    k api_keys%ROWTYPE;
BEGIN
    SELECT * INTO k FROM api_keys a WHERE a.prefix = p_prefix;
    IF NOT FOUND OR k.revoked_at IS NOT NULL OR k.secret_hash <> p_secret_hash THEN
        RETURN;
    END IF;
    -- Last-used is kept to the minute: no write on every call.
    IF k.last_used_at IS NULL OR k.last_used_at < p_now - interval '1 minute' THEN
        UPDATE api_keys a SET last_used_at = p_now WHERE a.workspace_id = k.workspace_id AND a.id = k.id;
    END IF;
    RETURN QUERY SELECT k.workspace_id, k.id, k.scopes, w.tier FROM workspaces w WHERE w.id = k.workspace_id;
END $$;

CREATE FUNCTION app.find_invitation(p_token_hash bytea)
    RETURNS TABLE (workspace_id uuid, id uuid, email_normalized text, role text, expires_at timestamptz,
                   accepted_at timestamptz, revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT i.workspace_id, i.id, i.email_normalized, i.role, i.expires_at, i.accepted_at, i.revoked_at
    FROM workspace_invitations i WHERE i.token_hash = p_token_hash
$$;

-- The per-request membership check: plpgsql keeps its plan for the session, so the check costs no
-- planning of the join under row-level security on every request (it was most of a request's cost).
CREATE FUNCTION app.membership(p_workspace_id uuid, p_user_id uuid)
    RETURNS TABLE (role text, tier text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT m.role, w.tier FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.workspace_id = p_workspace_id AND m.user_id = p_user_id;
END $$;

REVOKE ALL ON FUNCTION app.membership(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.authenticate_api_key(text, bytea, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.find_invitation(bytea) FROM PUBLIC;

-- What the app may do. Later migrations grant on their own tables explicitly (no default privileges:
-- an append-only table must not get UPDATE by accident).
GRANT USAGE ON SCHEMA public, app, dt TO agentcrm_app;
GRANT EXECUTE ON FUNCTION app.workspace_id(), app.user_id(), app.membership(uuid, uuid),
    app.authenticate_api_key(text, bytea, timestamptz), app.find_invitation(bytea) TO agentcrm_app;
GRANT SELECT ON schema_migrations TO agentcrm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON maintenance_jobs, maintenance_job_runs TO agentcrm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dt TO agentcrm_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public, dt TO agentcrm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, user_identities, refresh_tokens, workspaces, workspace_members,
    workspace_invitations, api_keys TO agentcrm_app;
