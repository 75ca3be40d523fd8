-- Idempotency keys on POST and PATCH (docs/errors.md). Scoped to the caller (a user or an API key), not to
-- a workspace: the key is the caller's promise about its own retries, so this is not a tenant table.
--
-- A key is claimed in flight with a lease before the endpoint runs; two requests with one key cannot both
-- run, and a key whose holder was killed can be claimed again once its lease lapses. On completion the
-- response is stored and replayed for 24 h (expires_at); a 5xx releases the key instead.
CREATE TABLE idempotency_keys (
    principal     text        NOT NULL,
    key           text        NOT NULL,
    fingerprint   bytea       NOT NULL,   -- SHA-256 of method, path, query, workspace and body
    lease_token   uuid,                   -- the holder while in flight; NULL once completed
    locked_until  timestamptz,
    status        integer,                -- NULL while in flight
    headers       jsonb,                  -- the replayed headers (Content-Type, Location, ETag)
    body          bytea,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (principal, key),
    CHECK ((status IS NULL) = (lease_token IS NOT NULL))
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO agentcrm_app;
