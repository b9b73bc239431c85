-- Review campaigns: drafts and templates, the items a launch snapshots from the inventory,
-- reviewers' decisions, and the durable "to revoke" rows a close leaves for the revocation
-- worker. Flags are stored as integers 0/1 so both databases read them the same way.

-- Who manages whom (CSV import): items about a user go to their manager first.
CREATE TABLE manager_mappings (
    user_email    TEXT PRIMARY KEY,                -- lower-cased
    manager_email TEXT NOT NULL,
    imported_at   TEXT NOT NULL
);

CREATE TABLE campaigns (
    id                          BIGSERIAL PRIMARY KEY,
    name                        TEXT    NOT NULL,
    description                 TEXT    NOT NULL,
    status                      TEXT    NOT NULL
        CHECK (status IN ('draft', 'active', 'closed', 'template')),
    kinds                       TEXT    NOT NULL,  -- JSON array: account_role, server_permission, server
    server_ids                  TEXT,              -- JSON array of Postmark server ids; NULL: all
    roles                       TEXT,              -- JSON array of account roles; NULL: all
    starts_on                   TEXT    NOT NULL,  -- YYYY-MM-DD
    due_on                      TEXT    NOT NULL,
    default_outcome             TEXT    NOT NULL CHECK (default_outcome IN ('keep', 'revoke', 'flag')),
    revoke_needs_justification  BIGINT  NOT NULL,
    privileged_needs_justification BIGINT  NOT NULL,
    use_manager_mapping         BIGINT  NOT NULL,
    use_server_owners           BIGINT  NOT NULL,
    fixed_reviewer              TEXT,
    fallback_reviewer           TEXT    NOT NULL,
    next_run_on                 TEXT,              -- templates: start of the next draft
    template_id                 BIGINT  REFERENCES campaigns (id),
    created_by                  TEXT    NOT NULL,
    created_at                  TEXT    NOT NULL,
    updated_at                  TEXT    NOT NULL,
    launched_at                 TEXT,
    launched_by                 TEXT,
    servers_sync_id             BIGINT  REFERENCES syncs (id),
    users_sync_id               BIGINT  REFERENCES syncs (id),
    closed_at                   TEXT,
    closed_by                   TEXT
);

CREATE INDEX campaigns_status ON campaigns (status);
-- One draft per template and quarter, however many instances run the schedule.
CREATE UNIQUE INDEX campaigns_from_template ON campaigns (template_id, starts_on)
    WHERE template_id IS NOT NULL;

-- One access under review, copied from the inventory at launch so later syncs do not change it.
CREATE TABLE review_items (
    id             BIGSERIAL PRIMARY KEY,
    campaign_id    BIGINT  NOT NULL REFERENCES campaigns (id),
    kind           TEXT    NOT NULL
        CHECK (kind IN ('account_role', 'server_permission', 'server')),
    user_email     TEXT,
    user_name      TEXT,
    server_id      BIGINT ,
    server_name    TEXT,
    access         TEXT    NOT NULL,               -- the role, the permission, or "server"
    privileged     BIGINT  NOT NULL,               -- owner/admin role or Server Admin
    flags          TEXT    NOT NULL,               -- JSON array of flag slugs
    reviewer_email TEXT    NOT NULL,
    assigned_via   TEXT    NOT NULL,               -- manager | owner | fixed | fallback | self_review | reassigned
    decision       TEXT CHECK (decision IN ('approve', 'revoke', 'flag')),  -- NULL: undecided
    justification  TEXT,
    decided_by     TEXT,
    decided_at     TEXT,
    decided_via    TEXT CHECK (decided_via IN ('reviewer', 'default', 'admin')),
    version        BIGINT  NOT NULL DEFAULT 0      -- bumped by every change, for conflict checks
);

CREATE INDEX review_items_campaign ON review_items (campaign_id, reviewer_email);
CREATE INDEX review_items_reviewer ON review_items (reviewer_email);

-- Revoke decisions of closed campaigns, for the revocation worker to carry out.
CREATE TABLE revocations (
    id              BIGSERIAL PRIMARY KEY,
    item_id         BIGINT  NOT NULL UNIQUE REFERENCES review_items (id),
    campaign_id     BIGINT  NOT NULL REFERENCES campaigns (id),
    kind            TEXT    NOT NULL,
    user_email      TEXT,
    server_id       BIGINT ,
    access          TEXT    NOT NULL,
    decided_via     TEXT    NOT NULL,               -- reviewer | default | admin
    status          TEXT    NOT NULL,               -- to_revoke (the worker adds more)
    created_at      TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT
);

CREATE INDEX revocations_status ON revocations (status);
