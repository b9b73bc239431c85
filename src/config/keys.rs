//! Every configuration key, without its prefix, with a one-line description (the README's
//! configuration table and the unknown-key check both read it).

/// Every configuration key, without its prefix, with a one-line description.
pub const KEYS: &[(&str, &str)] = &[
    (
        "PUBLIC_URL",
        "external base URL, e.g. https://access.example.com (required by `serve`)",
    ),
    (
        "BIND_ADDR",
        "address and port to listen on (default 127.0.0.1:3000)",
    ),
    (
        "DATABASE_URL",
        "sqlite://… or postgres://… (default sqlite file under ./data/)",
    ),
    (
        "DATABASE_MAX_CONNECTIONS",
        "connection pool size (default 10)",
    ),
    ("LOG_FORMAT", "pretty or json (default pretty)"),
    (
        "LOG_LEVEL",
        "tracing filter, e.g. info or postmark_access_review=debug (default info)",
    ),
    (
        "MAX_BODY_BYTES",
        "largest accepted request body in bytes (default 2097152)",
    ),
    (
        "METRICS_TOKEN",
        "bearer token Prometheus sends to read /metrics (secret; without it and METRICS_ADDR, /metrics is off)",
    ),
    (
        "METRICS_ADDR",
        "separate listen address for /metrics, e.g. 127.0.0.1:9100 (then not on BIND_ADDR)",
    ),
    (
        "REQUEST_TIMEOUT",
        "time from a request's arrival to the start of its response, e.g. 30s; beyond it 408 (default 30s)",
    ),
    (
        "HEADER_READ_TIMEOUT",
        "time a client has to send a request's headers; also closes idle keep-alive connections (default 30s)",
    ),
    (
        "SHUTDOWN_DRAIN",
        "after SIGTERM, time to keep serving while /readyz answers 503, e.g. 5s (default 0s)",
    ),
    (
        "SHUTDOWN_TIMEOUT",
        "then, time in-flight requests and claimed jobs get to finish (default 30s)",
    ),
    (
        "SITE_ROOT",
        "folder holding the built site: pkg/ and public files (default target/site)",
    ),
    (
        "OIDC_ISSUER",
        "OpenID Connect issuer URL, https (required by `serve`)",
    ),
    (
        "OIDC_CLIENT_ID",
        "client id registered at the provider (required by `serve`)",
    ),
    ("OIDC_CLIENT_SECRET", "client secret (required by `serve`)"),
    (
        "OIDC_CLIENT_AUTH",
        "client_secret_basic or client_secret_post (default client_secret_basic)",
    ),
    (
        "OIDC_SCOPES",
        "scopes besides openid, space-separated (default: email profile)",
    ),
    (
        "OIDC_GROUPS_CLAIM",
        "claim holding group names, e.g. groups (optional)",
    ),
    (
        "OIDC_ADMIN_GROUP",
        "group whose members are admins (needs OIDC_GROUPS_CLAIM)",
    ),
    (
        "OIDC_AUDITOR_GROUP",
        "group whose members are auditors (needs OIDC_GROUPS_CLAIM)",
    ),
    ("ADMIN_EMAILS", "comma-separated emails of admins"),
    ("AUDITOR_EMAILS", "comma-separated emails of auditors"),
    (
        "EMAIL_ALIASES",
        "emails that are one person, for the no-self-review rule: groups separated by `;`, \
         emails in a group by `,`",
    ),
    (
        "OFFBOARDING_DEADLINE",
        "flag a leaver whose Postmark access is not proved gone this long after deactivation \
         (default 24h)",
    ),
    (
        "FULFILMENT_EMAILS",
        "comma-separated emails of the Postmark admins who carry out manual revocations",
    ),
    (
        "SESSION_IDLE_TIMEOUT",
        "sign out after this much inactivity, e.g. 8h, 30m (default 8h)",
    ),
    (
        "SESSION_MAX_LIFETIME",
        "sign out this long after sign-in whatever the activity (default 24h)",
    ),
    (
        "OIDC_TRUST_UNVERIFIED_EMAIL",
        "grant roles from the email lists without email_verified=true (default false)",
    ),
    (
        "AUTH_RATE_LIMIT",
        "requests per minute per client address to /auth/* (default 30)",
    ),
    (
        "TRUSTED_PROXY_HOPS",
        "reverse proxies in front of the app: client address from X-Forwarded-For that many \
         entries from the right (default 0: the peer address)",
    ),
    (
        "TRUST_FORWARDED_FOR",
        "older form of TRUSTED_PROXY_HOPS: true means 1 (default false)",
    ),
    (
        "POSTMARK_API_URL",
        "Postmark API base URL (default https://api.postmarkapp.com)",
    ),
    (
        "ALLOW_PLAIN_HTTP",
        "true lets serve use http:// to hosts other than loopback (a TLS-terminating proxy beside the app) (default false)",
    ),
    (
        "POSTMARK_ACCOUNT_TOKEN",
        "Postmark account API token; without it no sync runs",
    ),
    (
        "SYNC_INTERVAL",
        "time between scheduled syncs, e.g. 6h; 0 turns the schedule off (default 6h)",
    ),
    (
        "WEBHOOK_HOST_ALLOWLIST",
        "comma-separated webhook hosts that are expected; others are flagged",
    ),
    (
        "POSTMARK_USERS_URL",
        "base URL of your users gateway (optional; see README)",
    ),
    ("POSTMARK_USERS_TOKEN", "bearer token for the users gateway"),
    (
        "POSTMARK_SERVER_TOKEN",
        "Postmark server API token that sends review emails; without it mail is off",
    ),
    (
        "MAIL_FROM",
        "sender of review emails, e.g. Access Review <review@example.com> (required with the server token)",
    ),
    (
        "MAIL_STREAM",
        "Postmark message stream for review emails (default outbound)",
    ),
    (
        "STALE_SYNC_DAYS",
        "warn before launching a campaign when the last sync is this many days old (default 7)",
    ),
    (
        "CLOSE_GRACE_DAYS",
        "days after the due date before an open campaign closes by itself (default 3)",
    ),
    (
        "CAMPAIGN_CHECK_INTERVAL",
        "how often due campaigns and recurring templates are checked, e.g. 1m (default 1m)",
    ),
    (
        "REVOCATION_LEASE",
        "how long a revocation job stays claimed by a worker that stopped, e.g. 5m (default 5m)",
    ),
    (
        "SIGNING_KEY_FILE",
        "Ed25519 signing key (PKCS#8 PEM, mode 0600), created on first start (default data/signing-key.pem)",
    ),
    (
        "SIGNING_KEY",
        "the signing key as PEM instead of a file (secret; never logged)",
    ),
    (
        "CHECKPOINT_INTERVAL",
        "time between signed audit checkpoints, e.g. 24h; 0 turns the schedule off (default 24h)",
    ),
];
