-- Housekeeping jobs run by the Maintenance timer function. Each job is leased here so two instances
-- (or a production and a staging slot) never run the same job at once, and every run is recorded
-- for operators.
CREATE TABLE maintenance_jobs (
    name              text PRIMARY KEY,
    lease_owner       text,
    lease_expires_at  timestamptz,
    last_started_at   timestamptz,
    last_finished_at  timestamptz,
    last_outcome      text CHECK (last_outcome IN ('succeeded', 'failed')),
    last_error        text
);

CREATE TABLE maintenance_job_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job          text        NOT NULL,
    instance     text        NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    summary      text,
    error        text
);

CREATE INDEX maintenance_job_runs_finished_at ON maintenance_job_runs (finished_at);
