-- Campaign sign-off (see README, "Signing off a campaign"): the signed report and manifest,
-- and the rule that a signed-off campaign never changes again. The application checks first
-- and explains; these triggers are the backstop for every other path, and their message
-- starts with "campaign signed off" so the application can still explain the refusal.

-- A failed revocation an admin accepted as it is (the access stays; the reason is evidence).
ALTER TABLE revocations ADD COLUMN acknowledged_at TEXT;
ALTER TABLE revocations ADD COLUMN acknowledged_by TEXT;
ALTER TABLE revocations ADD COLUMN acknowledged_reason TEXT;

CREATE TABLE campaign_signoffs (
    campaign_id        BIGINT PRIMARY KEY REFERENCES campaigns (id),
    signed_by          TEXT   NOT NULL,         -- the admin's email
    signed_at          TEXT   NOT NULL,
    statement          TEXT   NOT NULL,
    key_id             BIGINT NOT NULL REFERENCES signing_keys (id),
    report             TEXT   NOT NULL,         -- report.csv, byte for byte
    report_sha256      TEXT   NOT NULL,         -- lowercase hex
    report_signature   TEXT   NOT NULL,         -- base64 of the 64-byte Ed25519 signature
    manifest           TEXT   NOT NULL,         -- signoff.json, byte for byte
    manifest_signature TEXT   NOT NULL,
    checkpoint_id      BIGINT NOT NULL REFERENCES audit_checkpoints (id)
);

CREATE FUNCTION campaign_signoffs_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'campaign signed off: the sign-off record cannot change';
END;
$$;

CREATE TRIGGER campaign_signoffs_no_change
    BEFORE UPDATE OR DELETE ON campaign_signoffs
    FOR EACH ROW EXECUTE FUNCTION campaign_signoffs_frozen();

CREATE TRIGGER campaign_signoffs_no_truncate
    BEFORE TRUNCATE ON campaign_signoffs
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_signoffs_frozen();

-- Refuses a write to a row of a signed-off campaign. `TG_ARGV[0]` names the column holding
-- the campaign id (`id` on campaigns, `campaign_id` elsewhere).
CREATE FUNCTION signed_off_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    campaign BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        campaign := (to_jsonb(NEW) ->> TG_ARGV[0])::BIGINT;
    ELSE
        campaign := (to_jsonb(OLD) ->> TG_ARGV[0])::BIGINT;
    END IF;
    IF EXISTS (SELECT 1 FROM campaign_signoffs WHERE campaign_id = campaign) THEN
        RAISE EXCEPTION 'campaign signed off: it can no longer change';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER campaigns_signed_off
    BEFORE UPDATE OR DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION signed_off_frozen('id');

CREATE TRIGGER review_items_signed_off
    BEFORE INSERT OR UPDATE OR DELETE ON review_items
    FOR EACH ROW EXECUTE FUNCTION signed_off_frozen('campaign_id');

CREATE TRIGGER revocations_signed_off_no_insert_delete
    BEFORE INSERT OR DELETE ON revocations
    FOR EACH ROW EXECUTE FUNCTION signed_off_frozen('campaign_id');

-- What happens after sign-off stays writable: later syncs record whether the access stayed
-- away (verification, verified_at, verified_sync_id, drift_at, drift_sync_id), and an admin
-- may restore a quarantined server (restored_at, restored_by, audited). That is news after
-- the sign-off, not a change to what was decided and done; the signed report keeps what was
-- true when it was signed.
CREATE TRIGGER revocations_signed_off_no_update
    BEFORE UPDATE OF
        item_id, campaign_id, kind, user_email, server_id, access, decided_via, status,
        created_at, attempts, next_attempt_at, last_error, action, lease_until, applied_at,
        applied_by, excluded_reason, finished_at, previous, acknowledged_at, acknowledged_by, acknowledged_reason
    ON revocations
    FOR EACH ROW EXECUTE FUNCTION signed_off_frozen('campaign_id');
