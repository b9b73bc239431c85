-- Webhook URLs are stored without the basic-auth credentials they may carry
-- (https://user:pass@host/…); a keyed fingerprint of the credentials is kept instead, so a
-- changed password still shows as a change. JSON: webhook field → fingerprint; NULL when no
-- webhook URL of the server had credentials.
ALTER TABLE servers ADD COLUMN hook_credentials TEXT;

-- What was stored before this migration may hold credentials: the servers, their snapshots,
-- the sync changes and the values quarantines kept. The application takes them out once, at
-- its next start after migrating (inventory::hook_credentials::scrub_stored), and then
-- removes this marker. Audit events cannot be changed; see the README.
INSERT INTO inventory_settings (key, value, updated_at)
VALUES ('webhook_credentials_scrub', '"pending"', '1970-01-01T00:00:00.000000Z');
