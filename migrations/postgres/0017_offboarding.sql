-- Offboarding (see README, "Offboarding"): revocations that no campaign decided. A person an
-- identity provider deactivates or deletes (origin 'offboarding'), or an admin's emergency
-- removal (origin 'emergency'), becomes revocation jobs at once, carried out, retried,
-- audited and verified by the same worker and syncs as a campaign's. Such a job has no
-- campaign and no review item; manual offboarding jobs are gathered into fulfilment tasks
-- that belong to no campaign.

ALTER TABLE revocations ALTER COLUMN item_id DROP NOT NULL;
ALTER TABLE revocations ALTER COLUMN campaign_id DROP NOT NULL;
ALTER TABLE revocations ADD COLUMN origin TEXT NOT NULL DEFAULT 'campaign';  -- campaign | offboarding | emergency
ALTER TABLE revocations ADD COLUMN person_id TEXT REFERENCES scim_users (id); -- the leaver (offboarding)
ALTER TABLE revocations ADD COLUMN reason TEXT;                               -- why, outside campaigns

CREATE INDEX revocations_origin ON revocations (origin, created_at);

-- As in 0014, with the new columns frozen too: verification, drift and restoring stay
-- writable after sign-off.
DROP TRIGGER revocations_signed_off_no_update ON revocations;
CREATE TRIGGER revocations_signed_off_no_update
    BEFORE UPDATE OF
        item_id, campaign_id, kind, user_email, server_id, access, decided_via, status,
        created_at, attempts, next_attempt_at, last_error, action, lease_until, applied_at,
        applied_by, excluded_reason, finished_at, previous, acknowledged_at, acknowledged_by,
        acknowledged_reason, origin, person_id, reason
    ON revocations
    FOR EACH ROW EXECUTE FUNCTION signed_off_frozen('campaign_id');

ALTER TABLE fulfilment_tasks ALTER COLUMN campaign_id DROP NOT NULL;

-- At most one open removal per login outside campaigns: two writers noticing the same leaver
-- at once (a SCIM call and a sync, or two instances) start it once.
CREATE UNIQUE INDEX revocations_open_removal ON revocations (user_email)
    WHERE origin <> 'campaign' AND status IN ('pending', 'running');
