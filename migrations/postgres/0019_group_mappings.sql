-- Group mappings (see README, "Group mappings"): an identity provider's group grants a Postmark
-- account role and/or one permission on a set of servers. Joining a mapped group becomes
-- provisioning jobs (revocations rows with origin 'mapping' and a granting action: invite,
-- grant, set_role); leaving one becomes revocation jobs of the same origin. One mapping per
-- group name (compared without case, across providers).

CREATE TABLE group_mappings (
    id          BIGSERIAL PRIMARY KEY,
    group_name  TEXT NOT NULL,
    group_key   TEXT NOT NULL UNIQUE,            -- lower-cased group_name
    role        TEXT,                            -- account role granted, or NULL
    permission  TEXT,                            -- Server Admin | Server Viewer, or NULL
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE group_mapping_servers (
    mapping_id BIGINT NOT NULL REFERENCES group_mappings (id) ON DELETE CASCADE,
    server_id  BIGINT NOT NULL,                  -- Postmark server id
    PRIMARY KEY (mapping_id, server_id)
);

-- A person in several mapped groups has several open mapping jobs; the one-open-job rule is
-- for removals of a whole login.
DROP INDEX revocations_open_removal;
CREATE UNIQUE INDEX revocations_open_removal ON revocations (user_email)
    WHERE origin IN ('offboarding', 'emergency') AND status IN ('pending', 'running');
