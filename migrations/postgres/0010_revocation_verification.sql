-- Proof that a revocation took effect: the first successful sync (of the matching scope) that
-- starts after a job is done decides whether the access is gone from the inventory
-- (`effective`) or still there (`not_effective`). An effective revocation whose access shows
-- again in a later sync is marked as drift, once, so it is flagged rather than overwritten.

ALTER TABLE revocations ADD COLUMN verification TEXT NOT NULL DEFAULT 'unverified';  -- unverified | effective | not_effective
ALTER TABLE revocations ADD COLUMN verified_at TEXT;
ALTER TABLE revocations ADD COLUMN verified_sync_id BIGINT;  -- the sync that decided it
ALTER TABLE revocations ADD COLUMN drift_at TEXT;  -- the access came back after being effective
ALTER TABLE revocations ADD COLUMN drift_sync_id BIGINT;  -- the sync that saw it back
