-- Inventory settings admins change in the application (each change is an audit event).

CREATE TABLE inventory_settings (
    key        TEXT PRIMARY KEY,                 -- webhook_host_allowlist
    value      TEXT NOT NULL,                    -- JSON
    updated_at TEXT NOT NULL
);

-- Who answers for a server (a reviewer for it in campaigns).
CREATE TABLE server_owners (
    postmark_id INTEGER PRIMARY KEY,
    owner_email TEXT    NOT NULL,
    set_at      TEXT    NOT NULL
);
