-- PAR_EMAIL_ALIASES (see README, "Configuration"): emails the configuration says are one
-- person, besides the emails identity providers list for a person. Written at every start from
-- the configuration (the table mirrors it); the no-self-review rule reads it with the SCIM
-- claims.

CREATE TABLE email_aliases (
    person TEXT NOT NULL,           -- 'config:' and the group's first email
    email  TEXT NOT NULL,           -- lower-cased
    PRIMARY KEY (person, email)
);

CREATE INDEX email_aliases_email ON email_aliases (email);
