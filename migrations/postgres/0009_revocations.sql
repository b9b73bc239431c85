-- Carrying out revocations: when a campaign's revocations run (`revocation_mode`), the job
-- columns the worker needs on `revocations` (its action, lease and outcome), every attempt
-- against Postmark or the users gateway, and the pause the whole queue takes while Postmark
-- refuses the credentials (401/403), so a bad token does not burn every job's attempts.

ALTER TABLE campaigns ADD COLUMN revocation_mode TEXT NOT NULL DEFAULT 'apply'; -- apply | at_close

ALTER TABLE revocations ADD COLUMN action TEXT;          -- quarantine | delete | remove_permission | remove_user | demote | manual
ALTER TABLE revocations ADD COLUMN lease_until TEXT;     -- set while a worker holds the job
ALTER TABLE revocations ADD COLUMN applied_at TEXT;
ALTER TABLE revocations ADD COLUMN applied_by TEXT;
ALTER TABLE revocations ADD COLUMN excluded_reason TEXT;
ALTER TABLE revocations ADD COLUMN finished_at TEXT;
ALTER TABLE revocations ADD COLUMN previous TEXT;        -- JSON: server values before quarantine

CREATE TABLE revocation_attempts (
    id             BIGSERIAL PRIMARY KEY,
    revocation_id  BIGINT  NOT NULL REFERENCES revocations (id),
    at             TEXT    NOT NULL,
    operation      TEXT    NOT NULL,      -- e.g. "PUT /servers/10001", "DELETE gateway users/{email}"
    http_status    BIGINT ,
    error_code     BIGINT ,               -- Postmark ErrorCode
    message        TEXT,                  -- never a token
    outcome        TEXT    NOT NULL       -- done | retry | failed | paused
);

CREATE INDEX revocation_attempts_job ON revocation_attempts (revocation_id);

CREATE TABLE worker_pauses (
    worker     TEXT PRIMARY KEY,          -- 'revocations'
    paused_at  TEXT NOT NULL,
    reason     TEXT NOT NULL
);
