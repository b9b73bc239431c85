-- Ed25519 signing keys and signed audit checkpoints (see README, "Signing key and checkpoints").
-- Only public keys are kept here: the private key lives in a 0600 file or the configuration.
-- Retired keys stay, so checkpoints (and later sign-offs) signed with them still verify.
CREATE TABLE signing_keys (
    id             INTEGER PRIMARY KEY,
    public_key_pem TEXT NOT NULL,               -- SubjectPublicKeyInfo PEM
    fingerprint    TEXT NOT NULL UNIQUE,        -- lowercase hex SHA-256 of the 32 raw key bytes
    created_at     TEXT NOT NULL,
    retired_at     TEXT                         -- NULL for the one current key
);

CREATE INDEX signing_keys_retired_at ON signing_keys (retired_at);

-- A checkpoint signs the audit head: `body` is the exact signed line (without its newline).
CREATE TABLE audit_checkpoints (
    id          INTEGER PRIMARY KEY,
    key_id      INTEGER NOT NULL REFERENCES signing_keys (id),
    event_count INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    last_hash   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    reason      TEXT    NOT NULL,               -- manual | schedule | cli | demo | sign_off
    body        TEXT    NOT NULL,
    signature   TEXT    NOT NULL                -- base64 of the 64-byte Ed25519 signature
);

CREATE INDEX audit_checkpoints_last_seq ON audit_checkpoints (last_seq);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
