-- Append-only, hash-chained audit log. Rows are written only by src/audit/writer.rs.
CREATE TABLE audit_events (
    seq          BIGINT PRIMARY KEY,            -- 1, 2, 3 … assigned under an advisory lock
    occurred_at  TEXT   NOT NULL,               -- UTC, fixed width with microseconds
    actor_kind   TEXT   NOT NULL,               -- person | system
    actor_issuer TEXT,
    actor_sub    TEXT,
    actor_email  TEXT,
    action       TEXT   NOT NULL,               -- e.g. auth.sign_in, campaign.launched
    subject      TEXT   NOT NULL,               -- what the action was about, e.g. campaign:12
    details      TEXT   NOT NULL,               -- canonical JSON object
    prev_hash    TEXT   NOT NULL,
    hash         TEXT   NOT NULL UNIQUE
);

CREATE INDEX audit_events_subject ON audit_events (subject);
CREATE INDEX audit_events_action ON audit_events (action);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
