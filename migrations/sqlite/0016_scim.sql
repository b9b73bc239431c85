-- SCIM 2.0 provisioning (see README, "SCIM provisioning"). Each identity provider has its own
-- bearer tokens and its own namespace of users and groups; a token sees only its provider's.

CREATE TABLE scim_providers (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,           -- lower-cased name: one provider per name
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL                   -- email of the admin
);

-- Tokens are 256 random bits, so a plain SHA-256 is enough to store them: only the hash and a
-- short prefix (to recognise a token in the list) are kept.
CREATE TABLE scim_tokens (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL REFERENCES scim_providers (id),
    token_hash   TEXT NOT NULL UNIQUE,          -- lowercase hex SHA-256 of the whole token
    prefix       TEXT NOT NULL,                 -- the token's first characters, for display
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at TEXT,                          -- updated at most once a minute
    revoked_at   TEXT,
    revoked_by   TEXT
);

CREATE INDEX scim_tokens_provider ON scim_tokens (provider_id);

-- A person as the provider sees them. Deleted users stay as tombstones (deleted_at) so that
-- offboarding knows who left; SCIM answers 404 for them.
CREATE TABLE scim_users (
    id             TEXT PRIMARY KEY,            -- UUID assigned here: the SCIM id
    provider_id    INTEGER NOT NULL REFERENCES scim_providers (id),
    user_name      TEXT NOT NULL,
    user_name_key  TEXT NOT NULL,               -- lower-cased: userName is case-insensitive
    external_id    TEXT,
    active         BOOLEAN NOT NULL,
    display_name   TEXT,
    given_name     TEXT,
    family_name    TEXT,
    formatted_name TEXT,
    emails         TEXT NOT NULL,               -- JSON array as SCIM sends it
    attributes     TEXT NOT NULL,               -- JSON object: every other attribute kept
    version        INTEGER NOT NULL,            -- +1 per change (meta.version)
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,               -- the last change
    deactivated_at TEXT,                        -- when active went false or the user was deleted
    deleted_at     TEXT
);

CREATE UNIQUE INDEX scim_users_user_name ON scim_users (provider_id, user_name_key)
    WHERE deleted_at IS NULL;
CREATE INDEX scim_users_external_id ON scim_users (provider_id, external_id);
CREATE INDEX scim_users_created ON scim_users (provider_id, created_at);

-- Every email of a user, lower-cased, kept for tombstones too: for filters, and for matching
-- Postmark logins to people (a deleted person's login is an orphan).
CREATE TABLE scim_user_emails (
    user_id    TEXT NOT NULL REFERENCES scim_users (id),
    value_key  TEXT NOT NULL,
    type_key   TEXT,
    is_primary BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, value_key)
);

CREATE INDEX scim_user_emails_value ON scim_user_emails (value_key);

CREATE TABLE scim_groups (
    id               TEXT PRIMARY KEY,          -- UUID assigned here
    provider_id      INTEGER NOT NULL REFERENCES scim_providers (id),
    display_name     TEXT NOT NULL,
    display_name_key TEXT NOT NULL,             -- lower-cased for filters
    external_id      TEXT,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE INDEX scim_groups_display_name ON scim_groups (provider_id, display_name_key);
CREATE INDEX scim_groups_external_id ON scim_groups (provider_id, external_id);
CREATE INDEX scim_groups_created ON scim_groups (provider_id, created_at);

CREATE TABLE scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES scim_users (id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX scim_group_members_user ON scim_group_members (user_id);
