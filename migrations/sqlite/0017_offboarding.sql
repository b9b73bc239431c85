-- Offboarding (see README, "Offboarding"): revocations that no campaign decided. A person an
-- identity provider deactivates or deletes (origin 'offboarding'), or an admin's emergency
-- removal (origin 'emergency'), becomes revocation jobs at once, carried out, retried,
-- audited and verified by the same worker and syncs as a campaign's. Such a job has no
-- campaign and no review item, so both columns become optional; SQLite cannot drop NOT NULL,
-- so the table is rebuilt (same columns, same rows, same ids) and its indexes and sign-off
-- triggers are made again. Manual offboarding jobs are gathered into fulfilment tasks that
-- belong to no campaign, so `fulfilment_tasks.campaign_id` becomes optional the same way.

-- Rows of revocation_attempts and fulfilment_lines point at revocations by id; the checks
-- wait for the commit, when the rebuilt table holds every id again.
PRAGMA defer_foreign_keys = ON;

DROP TRIGGER revocations_signed_off_no_insert;
DROP TRIGGER revocations_signed_off_no_update;
DROP TRIGGER revocations_signed_off_no_delete;

CREATE TABLE revocations_rebuilt (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id             INTEGER UNIQUE REFERENCES review_items (id),   -- NULL outside campaigns
    campaign_id         INTEGER REFERENCES campaigns (id),             -- NULL outside campaigns
    kind                TEXT    NOT NULL,
    user_email          TEXT,
    server_id           INTEGER,
    access              TEXT    NOT NULL,
    decided_via         TEXT    NOT NULL,     -- reviewer | default | admin | provider
    status              TEXT    NOT NULL,
    created_at          TEXT    NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT,
    last_error          TEXT,
    action              TEXT,
    lease_until         TEXT,
    applied_at          TEXT,
    applied_by          TEXT,
    excluded_reason     TEXT,
    finished_at         TEXT,
    previous            TEXT,
    verification        TEXT    NOT NULL DEFAULT 'unverified',
    verified_at         TEXT,
    verified_sync_id    INTEGER,
    drift_at            TEXT,
    drift_sync_id       INTEGER,
    restored_at         TEXT,
    restored_by         TEXT,
    acknowledged_at     TEXT,
    acknowledged_by     TEXT,
    acknowledged_reason TEXT,
    origin              TEXT    NOT NULL DEFAULT 'campaign',  -- campaign | offboarding | emergency
    person_id           TEXT    REFERENCES scim_users (id),   -- the leaver (offboarding)
    reason              TEXT                                  -- why, outside campaigns
);

INSERT INTO revocations_rebuilt (
    id, item_id, campaign_id, kind, user_email, server_id, access, decided_via, status,
    created_at, attempts, next_attempt_at, last_error, action, lease_until, applied_at,
    applied_by, excluded_reason, finished_at, previous, verification, verified_at,
    verified_sync_id, drift_at, drift_sync_id, restored_at, restored_by, acknowledged_at,
    acknowledged_by, acknowledged_reason)
SELECT
    id, item_id, campaign_id, kind, user_email, server_id, access, decided_via, status,
    created_at, attempts, next_attempt_at, last_error, action, lease_until, applied_at,
    applied_by, excluded_reason, finished_at, previous, verification, verified_at,
    verified_sync_id, drift_at, drift_sync_id, restored_at, restored_by, acknowledged_at,
    acknowledged_by, acknowledged_reason
FROM revocations;

DROP TABLE revocations;
ALTER TABLE revocations_rebuilt RENAME TO revocations;

CREATE INDEX revocations_status ON revocations (status);
CREATE INDEX revocations_server ON revocations (server_id);
CREATE INDEX revocations_user ON revocations (user_email);
CREATE INDEX revocations_origin ON revocations (origin, created_at);

CREATE TRIGGER revocations_signed_off_no_insert BEFORE INSERT ON revocations
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = NEW.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

-- As in 0014: verification, drift and restoring stay writable after sign-off.
CREATE TRIGGER revocations_signed_off_no_update BEFORE UPDATE OF
    item_id, campaign_id, kind, user_email, server_id, access, decided_via, status, created_at,
    attempts, next_attempt_at, last_error, action, lease_until, applied_at, applied_by,
    excluded_reason, finished_at, previous, acknowledged_at,
    acknowledged_by, acknowledged_reason, origin, person_id, reason
ON revocations
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = OLD.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TRIGGER revocations_signed_off_no_delete BEFORE DELETE ON revocations
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = OLD.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TABLE fulfilment_tasks_rebuilt (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER REFERENCES campaigns (id),   -- NULL: offboarding's manual jobs
    created_at   TEXT NOT NULL,
    recipients   TEXT NOT NULL
);
INSERT INTO fulfilment_tasks_rebuilt (id, campaign_id, created_at, recipients)
    SELECT id, campaign_id, created_at, recipients FROM fulfilment_tasks;
DROP TABLE fulfilment_tasks;
ALTER TABLE fulfilment_tasks_rebuilt RENAME TO fulfilment_tasks;
CREATE INDEX fulfilment_tasks_campaign ON fulfilment_tasks (campaign_id);

-- At most one open removal per login outside campaigns: two writers noticing the same leaver
-- at once (a SCIM call and a sync, or two instances) start it once.
CREATE UNIQUE INDEX revocations_open_removal ON revocations (user_email)
    WHERE origin <> 'campaign' AND status IN ('pending', 'running');
