-- Inventory of Postmark servers, one snapshot per successful sync.

CREATE TABLE syncs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_kind  TEXT    NOT NULL,              -- schedule | manual | cli | demo
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    status        TEXT    NOT NULL,              -- running | succeeded | failed
    error         TEXT,                          -- readable reason when failed
    servers       INTEGER,
    added         INTEGER,
    removed       INTEGER,
    changed       INTEGER
);

-- The current inventory: what the last successful sync saw. API tokens are never stored,
-- only how many there are and a fingerprint (SHA-256 prefix) of each.
CREATE TABLE servers (
    postmark_id            INTEGER PRIMARY KEY,
    name                   TEXT    NOT NULL,
    color                  TEXT,
    server_link            TEXT,
    smtp_api_activated     BOOLEAN NOT NULL,
    raw_email_enabled      BOOLEAN NOT NULL,
    track_opens            BOOLEAN NOT NULL,
    track_links            TEXT,
    delivery_hook_url      TEXT,
    inbound_hook_url       TEXT,
    bounce_hook_url        TEXT,
    open_hook_url          TEXT,
    click_hook_url         TEXT,
    inbound_address        TEXT,
    inbound_domain         TEXT,
    token_count            INTEGER NOT NULL,
    token_fingerprints     TEXT    NOT NULL,     -- JSON array
    sent_30d               INTEGER,              -- NULL: activity unknown
    first_seen_sync        INTEGER NOT NULL REFERENCES syncs (id),
    last_seen_sync         INTEGER NOT NULL REFERENCES syncs (id)
);

CREATE INDEX servers_name ON servers (name);

-- Every server as each successful sync saw it (canonical JSON, tokens fingerprinted).
CREATE TABLE server_snapshots (
    sync_id     INTEGER NOT NULL REFERENCES syncs (id),
    postmark_id INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    PRIMARY KEY (sync_id, postmark_id)
);

-- What changed at each sync compared with the previous successful one.
CREATE TABLE sync_changes (
    sync_id     INTEGER NOT NULL REFERENCES syncs (id),
    kind        TEXT    NOT NULL,                -- server (users and permissions later)
    item_key    TEXT    NOT NULL,
    change      TEXT    NOT NULL,                -- added | removed | changed
    detail      TEXT    NOT NULL,                -- JSON: name, changed fields with before/after
    PRIMARY KEY (sync_id, kind, item_key)
);
