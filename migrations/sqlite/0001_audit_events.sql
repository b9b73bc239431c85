-- Append-only, hash-chained audit log. Rows are written only by src/audit/writer.rs.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY,           -- 1, 2, 3 … assigned under the write lock
    occurred_at  TEXT    NOT NULL,              -- UTC, fixed width with microseconds
    actor_kind   TEXT    NOT NULL,              -- person | system
    actor_issuer TEXT,
    actor_sub    TEXT,
    actor_email  TEXT,
    action       TEXT    NOT NULL,              -- e.g. auth.sign_in, campaign.launched
    subject      TEXT    NOT NULL,              -- what the action was about, e.g. campaign:12
    details      TEXT    NOT NULL,              -- canonical JSON object
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE
);

CREATE INDEX audit_events_subject ON audit_events (subject);
CREATE INDEX audit_events_action ON audit_events (action);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
