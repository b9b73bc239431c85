-- The notification outbox and approval links. A notification row is written in the same
-- transaction as the event that causes it and sent later by the worker, which claims it with
-- a lease; an approval link is minted when its email is sent and stored only as a hash.
-- Flags are stored as integers 0/1 so both databases read them the same way.

CREATE TABLE notifications (
    id               BIGSERIAL PRIMARY KEY,
    kind             TEXT    NOT NULL,         -- review_request | handover | reminder | escalation
    recipient        TEXT    NOT NULL,         -- lower-cased email
    campaign_id      BIGINT  REFERENCES campaigns (id),
    data             TEXT    NOT NULL,         -- JSON template data; never a token
    status           TEXT    NOT NULL,         -- queued | sending | sent | failed
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  TEXT    NOT NULL,         -- clock timestamp
    lease_until      TEXT,                     -- set while a worker holds the row
    last_error       TEXT,
    permanent        BIGINT  NOT NULL DEFAULT 0, -- 1: Postmark refused for good (unreachable)
    message_id       TEXT,                     -- Postmark MessageID once sent
    preview          TEXT,                     -- rendered text body, token replaced by "[link]"
    created_at       TEXT    NOT NULL,
    sent_at          TEXT
);

CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_campaign ON notifications (campaign_id, recipient);

CREATE TABLE approval_links (
    id               BIGSERIAL PRIMARY KEY,
    token_hash       TEXT    NOT NULL UNIQUE,  -- lowercase hex SHA-256 of the raw token
    reviewer_email   TEXT    NOT NULL,
    campaign_id      BIGINT  NOT NULL REFERENCES campaigns (id),
    notification_id  BIGINT  REFERENCES notifications (id),
    created_at       TEXT    NOT NULL,
    expires_at       TEXT    NOT NULL,
    revoked_at       TEXT,
    revoked_reason   TEXT,                     -- rotated | revoked
    last_used_at     TEXT
);

CREATE INDEX approval_links_reviewer ON approval_links (campaign_id, reviewer_email);
