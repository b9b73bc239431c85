-- Manual fulfilment tasks: revocations no API can carry out (the Account Owner, or no users
-- gateway) are gathered, per campaign, into a task that the people in PAR_FULFILMENT_EMAILS
-- are emailed about once. Each line of a task is one revocation, marked done or "could not
-- do" by a person (or withdrawn when an admin retries or cancels the revocation). A line is
-- never moved or deleted: a revocation that needs a person again gets a line in a new task,
-- so every task keeps its history.

CREATE TABLE fulfilment_tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    created_at   TEXT NOT NULL,
    recipients   TEXT NOT NULL            -- JSON array of the emails told about it (may be empty)
);

CREATE INDEX fulfilment_tasks_campaign ON fulfilment_tasks (campaign_id);

CREATE TABLE fulfilment_lines (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id        INTEGER NOT NULL REFERENCES fulfilment_tasks (id),
    revocation_id  INTEGER NOT NULL REFERENCES revocations (id),
    outcome        TEXT,                  -- NULL while open; done | not_done | withdrawn
    note           TEXT,
    marked_by      TEXT,                  -- email of the person (or admin) who closed the line
    marked_at      TEXT
);

CREATE UNIQUE INDEX fulfilment_lines_task_revocation ON fulfilment_lines (task_id, revocation_id);
CREATE INDEX fulfilment_lines_revocation ON fulfilment_lines (revocation_id, outcome);
