-- People who have signed in, identified by their OpenID Connect issuer and subject.
CREATE TABLE people (
    id               BIGSERIAL PRIMARY KEY,
    issuer           TEXT NOT NULL,
    subject          TEXT NOT NULL,
    email            TEXT NOT NULL,
    name             TEXT NOT NULL,
    first_sign_in_at TEXT NOT NULL,
    last_sign_in_at  TEXT NOT NULL,
    UNIQUE (issuer, subject)
);

CREATE INDEX people_email ON people (email);
