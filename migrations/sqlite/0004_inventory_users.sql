-- Postmark users and their per-server permissions (Postmark has no user API: they come from
-- a CSV import or a users gateway). Imports are recorded as syncs with scope 'users'.

ALTER TABLE syncs ADD COLUMN scope TEXT NOT NULL DEFAULT 'servers';   -- servers | users
ALTER TABLE syncs ADD COLUMN source TEXT;                              -- e.g. the imported file

CREATE TABLE postmark_users (
    email           TEXT    PRIMARY KEY,          -- lower-cased
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL,             -- as Postmark names it: Account Owner, Account Admin, …
    status          TEXT    NOT NULL,             -- active | pending
    invited_at      TEXT,                         -- YYYY-MM-DD, for pending invitations
    first_seen_sync INTEGER NOT NULL REFERENCES syncs (id),
    last_seen_sync  INTEGER NOT NULL REFERENCES syncs (id)
);

CREATE TABLE user_permissions (
    email              TEXT    NOT NULL REFERENCES postmark_users (email) ON DELETE CASCADE,
    postmark_server_id INTEGER NOT NULL,
    permission         TEXT    NOT NULL,          -- Server Admin, Server Viewer, …
    PRIMARY KEY (email, postmark_server_id)
);

CREATE TABLE user_snapshots (
    sync_id INTEGER NOT NULL REFERENCES syncs (id),
    email   TEXT    NOT NULL,
    data    TEXT    NOT NULL,
    PRIMARY KEY (sync_id, email)
);
