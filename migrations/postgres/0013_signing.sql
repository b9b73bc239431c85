-- Ed25519 signing keys and signed audit checkpoints (see README, "Signing key and checkpoints").
-- Only public keys are kept here: the private key lives in a 0600 file or the configuration.
-- Retired keys stay, so checkpoints (and later sign-offs) signed with them still verify.
CREATE TABLE signing_keys (
    id             BIGSERIAL PRIMARY KEY,
    public_key_pem TEXT NOT NULL,               -- SubjectPublicKeyInfo PEM
    fingerprint    TEXT NOT NULL UNIQUE,        -- lowercase hex SHA-256 of the 32 raw key bytes
    created_at     TEXT NOT NULL,
    retired_at     TEXT                         -- NULL for the one current key
);

CREATE INDEX signing_keys_retired_at ON signing_keys (retired_at);

-- A checkpoint signs the audit head: `body` is the exact signed line (without its newline).
CREATE TABLE audit_checkpoints (
    id          BIGSERIAL PRIMARY KEY,
    key_id      BIGINT NOT NULL REFERENCES signing_keys (id),
    event_count BIGINT NOT NULL,
    last_seq    BIGINT NOT NULL,
    last_hash   TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    reason      TEXT   NOT NULL,                -- manual | schedule | cli | demo | sign_off
    body        TEXT   NOT NULL,
    signature   TEXT   NOT NULL                 -- base64 of the 64-byte Ed25519 signature
);

CREATE INDEX audit_checkpoints_last_seq ON audit_checkpoints (last_seq);

CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_checkpoints_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();

CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
