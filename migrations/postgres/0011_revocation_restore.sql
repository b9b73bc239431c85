-- Restoring a quarantined server: an admin puts back the values a quarantine changed (kept in
-- `previous`) from the server's page. The revocation keeps its history and is marked restored,
-- so later syncs neither verify it nor flag the server's return as drift.

ALTER TABLE revocations ADD COLUMN restored_at TEXT;
ALTER TABLE revocations ADD COLUMN restored_by TEXT;  -- the admin's email

-- The server's and the user's inventory pages list the revocations that concern them.
CREATE INDEX revocations_server ON revocations (server_id);
CREATE INDEX revocations_user ON revocations (user_email);
