-- Campaign sign-off (see README, "Signing off a campaign"): the signed report and manifest,
-- and the rule that a signed-off campaign never changes again. The application checks first
-- and explains; these triggers are the backstop for every other path, and their message
-- starts with "campaign signed off" so the application can still explain the refusal.

-- A failed revocation an admin accepted as it is (the access stays; the reason is evidence).
ALTER TABLE revocations ADD COLUMN acknowledged_at TEXT;
ALTER TABLE revocations ADD COLUMN acknowledged_by TEXT;
ALTER TABLE revocations ADD COLUMN acknowledged_reason TEXT;

CREATE TABLE campaign_signoffs (
    campaign_id        INTEGER PRIMARY KEY REFERENCES campaigns (id),
    signed_by          TEXT    NOT NULL,        -- the admin's email
    signed_at          TEXT    NOT NULL,
    statement          TEXT    NOT NULL,
    key_id             INTEGER NOT NULL REFERENCES signing_keys (id),
    report             TEXT    NOT NULL,        -- report.csv, byte for byte
    report_sha256      TEXT    NOT NULL,        -- lowercase hex
    report_signature   TEXT    NOT NULL,        -- base64 of the 64-byte Ed25519 signature
    manifest           TEXT    NOT NULL,        -- signoff.json, byte for byte
    manifest_signature TEXT    NOT NULL,
    checkpoint_id      INTEGER NOT NULL REFERENCES audit_checkpoints (id)
);

CREATE TRIGGER campaign_signoffs_no_update BEFORE UPDATE ON campaign_signoffs
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: the sign-off record cannot change');
END;

CREATE TRIGGER campaign_signoffs_no_delete BEFORE DELETE ON campaign_signoffs
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: the sign-off record cannot change');
END;

CREATE TRIGGER campaigns_signed_off_no_update BEFORE UPDATE ON campaigns
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TRIGGER campaigns_signed_off_no_delete BEFORE DELETE ON campaigns
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TRIGGER review_items_signed_off_no_insert BEFORE INSERT ON review_items
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = NEW.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TRIGGER review_items_signed_off_no_update BEFORE UPDATE ON review_items
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = OLD.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TRIGGER review_items_signed_off_no_delete BEFORE DELETE ON review_items
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = OLD.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

CREATE TRIGGER revocations_signed_off_no_insert BEFORE INSERT ON revocations
WHEN EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = NEW.campaign_id)
BEGIN
    SELECT RAISE(ABORT, 'campaign signed off: it can no longer change');
END;

-- What happens after sign-off stays writable: later syncs record whether the access stayed
-- away (verification, verified_at, verified_sync_id, drift_at, drift_sync_id), and an admin
-- may restore a quarantined server (restored_at, restored_by, audited). That is news after
-- the sign-off, not a change to what was decided and done; the signed report keeps what was
-- true when it was signed.
CREATE TRIGGER revocations_signed_off_no_update BEFORE UPDATE OF
    item_id, campaign_id, kind, user_email, server_id, access, decided_via, status, created_at,
    attempts, next_attempt_at, last_error, action, lease_until, applied_at, applied_by,
    excluded_reason, finished_at, previous, acknowledged_at,
    acknowledged_by, acknowledged_reason
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
