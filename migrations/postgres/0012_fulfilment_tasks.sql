-- Manual fulfilment tasks: revocations no API can carry out (the Account Owner, or no users
-- gateway) are gathered, per campaign, into a task that the people in PAR_FULFILMENT_EMAILS
-- are emailed about once. Each line (a revocation) is marked done or "could not do" by a
-- person; a line marked done is then proved or disproved by the next sync like any job.

CREATE TABLE fulfilment_tasks (
    id           BIGSERIAL PRIMARY KEY,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id),
    created_at   TEXT NOT NULL,
    recipients   TEXT NOT NULL            -- JSON array of the emails told about it (may be empty)
);

CREATE INDEX fulfilment_tasks_campaign ON fulfilment_tasks (campaign_id);

ALTER TABLE revocations ADD COLUMN task_id BIGINT REFERENCES fulfilment_tasks (id);
ALTER TABLE revocations ADD COLUMN task_outcome TEXT;   -- done | not_done, once a person marked it
ALTER TABLE revocations ADD COLUMN task_note TEXT;
ALTER TABLE revocations ADD COLUMN task_by TEXT;        -- email of the person who marked it
ALTER TABLE revocations ADD COLUMN task_at TEXT;

CREATE INDEX revocations_task ON revocations (task_id);
