//! Typed configuration from `PAR_*` environment variables and an optional TOML file.
//!
//! Every key is listed once in [`KEYS`]; the README and `.env.example` document the same list.
//! The environment wins over the file, so a deployment can keep a file of defaults and override a
//! value per host. Errors name the key as the operator would write it (`PAR_PUBLIC_URL`).

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path, path::PathBuf, time::Duration};

use secrecy::SecretString;
use url::Url;

use crate::email::Email;

mod mail;
mod revocations;

pub use mail::{MailConfig, DEFAULT_MAIL_STREAM};
pub use revocations::DEFAULT_REVOCATION_LEASE;

/// Prefix of every environment variable the application reads.
pub const ENV_PREFIX: &str = "PAR_";

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
        "TRUST_FORWARDED_FOR",
        "true behind a reverse proxy: client address from X-Forwarded-For (default false)",
    ),
    (
        "POSTMARK_API_URL",
        "Postmark API base URL (default https://api.postmarkapp.com)",
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
];

/// Postmark's API.
pub const DEFAULT_POSTMARK_API_URL: &str = "https://api.postmarkapp.com/";

/// The SQLite database used when `PAR_DATABASE_URL` is unset.
pub const DEFAULT_SQLITE_PATH: &str = "data/postmark-access-review.db";

/// A configuration problem, reported once at startup with the key it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key} is required: {hint}")]
    Missing { key: String, hint: &'static str },
    #[error("{key} is invalid ({origin}): {reason}")]
    Invalid {
        key: String,
        origin: String,
        reason: String,
    },
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
}

/// Where a raw value came from, so an error can point at the right place.
#[derive(Debug, Clone)]
enum Origin {
    Env,
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env => f.write_str("from the environment"),
            Origin::File(path) => write!(f, "from {}", path.display()),
        }
    }
}

/// Raw string values by key (without prefix), before typing.
#[derive(Debug, Default, Clone)]
pub struct RawConfig {
    values: BTreeMap<&'static str, (String, Origin)>,
    /// `PAR_*` variables that are not configuration keys (likely typos).
    unknown: Vec<String>,
}

impl RawConfig {
    /// Reads the optional TOML file, then overlays `PAR_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut raw = RawConfig::default();
        if let Some(path) = file {
            raw.read_file(path)?;
        }
        for (name, value) in env {
            let Some(stripped) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            match known_key(stripped) {
                Some(key) => {
                    raw.values.insert(key, (value, Origin::Env));
                }
                // The test tooling's own variables share the prefix.
                None if stripped.starts_with("TEST_") => {}
                None => raw.unknown.push(name),
            }
        }
        Ok(raw)
    }

    /// Logs the `PAR_*` variables that are not configuration keys; call once logging is set up.
    pub fn warn_unknown(&self) {
        for name in &self.unknown {
            tracing::warn!(variable = %name, "ignoring unknown configuration variable");
        }
    }

    /// Reads the process environment (and the file given with `--config`).
    pub fn from_process(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(file, std::env::vars())
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file_error = |reason: String| ConfigError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| file_error(e.message().to_string()))?;
        for (name, value) in table {
            let upper = name.to_ascii_uppercase();
            let key = known_key(&upper).ok_or_else(|| {
                file_error(format!(
                    "unknown key `{name}` (keys are listed in the README)"
                ))
            })?;
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(file_error(format!(
                        "`{name}` must be a string, integer or boolean, not {}",
                        other.type_str()
                    )))
                }
            };
            self.values
                .insert(key, (value, Origin::File(path.to_path_buf())));
        }
        Ok(())
    }

    /// Sets a value as if it came from the environment (used by `demo` and tests).
    pub fn set(&mut self, key: &'static str, value: impl Into<String>) {
        debug_assert!(known_key(key).is_some(), "unknown key {key}");
        self.values.insert(key, (value.into(), Origin::Env));
    }

    fn get(&self, key: &str) -> Option<&(String, Origin)> {
        self.values.get(key).filter(|(v, _)| !v.trim().is_empty())
    }

    fn parse<T>(
        &self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        self.get(key)
            .map(|(value, origin)| {
                parse(value.trim()).map_err(|reason| ConfigError::Invalid {
                    key: format!("{ENV_PREFIX}{key}"),
                    origin: origin.to_string(),
                    reason,
                })
            })
            .transpose()
    }

    /// Settings for the database connection.
    pub fn database(&self) -> Result<DatabaseConfig, ConfigError> {
        let url = self
            .parse("DATABASE_URL", parse_database_url)?
            .unwrap_or_else(|| {
                SecretString::from(format!("sqlite://{DEFAULT_SQLITE_PATH}?mode=rwc"))
            });
        let max_connections = self
            .parse("DATABASE_MAX_CONNECTIONS", |v| parse_in_range(v, 1, 1000))?
            .unwrap_or(10);
        Ok(DatabaseConfig {
            url,
            max_connections,
        })
    }

    /// Settings for logs.
    pub fn telemetry(&self) -> Result<TelemetryConfig, ConfigError> {
        let format = self
            .parse("LOG_FORMAT", |v| match v {
                "pretty" => Ok(LogFormat::Pretty),
                "json" => Ok(LogFormat::Json),
                _ => Err(format!("expected `pretty` or `json`, got `{v}`")),
            })?
            .unwrap_or(LogFormat::Pretty);
        let level = self
            .parse("LOG_LEVEL", |v| {
                tracing_subscriber::EnvFilter::try_new(v)
                    .map(|_| v.to_string())
                    .map_err(|e| e.to_string())
            })?
            .unwrap_or_else(|| "info".to_string());
        Ok(TelemetryConfig { format, level })
    }

    /// Settings for the HTTP server; `PAR_PUBLIC_URL` is required here.
    pub fn server(&self) -> Result<ServerConfig, ConfigError> {
        let public_url = self
            .parse("PUBLIC_URL", parse_public_url)?
            .ok_or(ConfigError::Missing {
                key: format!("{ENV_PREFIX}PUBLIC_URL"),
                hint: "set it to the address users open in their browser, e.g. https://access.example.com",
            })?;
        let bind_addr = self
            .parse("BIND_ADDR", |v| {
                v.parse::<SocketAddr>()
                    .map_err(|_| format!("expected host:port such as 127.0.0.1:3000, got `{v}`"))
            })?
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let max_body_bytes = self
            .parse("MAX_BODY_BYTES", |v| parse_in_range(v, 1024, 1 << 30))?
            .unwrap_or(2 * 1024 * 1024);
        let site_root = self
            .parse("SITE_ROOT", |v| Ok(PathBuf::from(v)))?
            .unwrap_or_else(|| PathBuf::from("target/site"));
        Ok(ServerConfig {
            public_url,
            bind_addr,
            max_body_bytes,
            site_root,
        })
    }
}

impl RawConfig {
    /// Sign-in settings; the provider keys are required here.
    pub fn auth(&self) -> Result<AuthConfig, ConfigError> {
        let required = |key: &'static str, hint: &'static str| ConfigError::Missing {
            key: format!("{ENV_PREFIX}{key}"),
            hint,
        };
        let issuer = self.parse("OIDC_ISSUER", parse_issuer)?.ok_or_else(|| {
            required(
                "OIDC_ISSUER",
                "set it to your OpenID Connect provider's issuer URL",
            )
        })?;
        let client_id = self
            .parse("OIDC_CLIENT_ID", |v| Ok(v.to_string()))?
            .ok_or_else(|| {
                required(
                    "OIDC_CLIENT_ID",
                    "register this application at your provider and set its client id",
                )
            })?;
        let client_secret = self
            .parse("OIDC_CLIENT_SECRET", |v| {
                Ok(SecretString::from(v.to_string()))
            })?
            .ok_or_else(|| {
                required(
                    "OIDC_CLIENT_SECRET",
                    "set the client secret the provider issued",
                )
            })?;
        let client_auth = self
            .parse("OIDC_CLIENT_AUTH", |v| match v {
                "client_secret_basic" => Ok(ClientAuth::Basic),
                "client_secret_post" => Ok(ClientAuth::Post),
                _ => Err(format!(
                    "expected client_secret_basic or client_secret_post, got `{v}`"
                )),
            })?
            .unwrap_or(ClientAuth::Basic);
        let scopes = self
            .parse("OIDC_SCOPES", |v| {
                Ok(v.split_whitespace().map(str::to_string).collect())
            })?
            .unwrap_or_else(|| vec!["email".to_string(), "profile".to_string()]);
        let text = |key: &'static str| self.parse(key, |v| Ok(v.to_string()));
        let groups_claim = text("OIDC_GROUPS_CLAIM")?;
        let admin_group = text("OIDC_ADMIN_GROUP")?;
        let auditor_group = text("OIDC_AUDITOR_GROUP")?;
        if groups_claim.is_none() {
            for (key, value) in [
                ("OIDC_ADMIN_GROUP", &admin_group),
                ("OIDC_AUDITOR_GROUP", &auditor_group),
            ] {
                if value.is_some() {
                    return Err(ConfigError::Invalid {
                        key: format!("{ENV_PREFIX}{key}"),
                        origin: "set".to_string(),
                        reason: "needs PAR_OIDC_GROUPS_CLAIM to say which claim holds the groups"
                            .to_string(),
                    });
                }
            }
        }
        let admin_emails = self
            .parse("ADMIN_EMAILS", parse_email_list)?
            .unwrap_or_default();
        let auditor_emails = self
            .parse("AUDITOR_EMAILS", parse_email_list)?
            .unwrap_or_default();
        let session_idle = self
            .parse("SESSION_IDLE_TIMEOUT", parse_duration)?
            .unwrap_or(Duration::from_secs(8 * 3600));
        let session_max = self
            .parse("SESSION_MAX_LIFETIME", parse_duration)?
            .unwrap_or(Duration::from_secs(24 * 3600));
        let rate_limit_per_minute = self
            .parse("AUTH_RATE_LIMIT", |v| parse_in_range(v, 1, 100_000))?
            .unwrap_or(30);
        let trust_forwarded_for = self
            .parse("TRUST_FORWARDED_FOR", parse_bool)?
            .unwrap_or(false);
        let trust_unverified_email = self
            .parse("OIDC_TRUST_UNVERIFIED_EMAIL", parse_bool)?
            .unwrap_or(false);
        Ok(AuthConfig {
            issuer,
            trust_unverified_email,
            client_id,
            client_secret,
            client_auth,
            scopes,
            groups_claim,
            admin_group,
            auditor_group,
            admin_emails,
            auditor_emails,
            session_idle,
            session_max,
            rate_limit_per_minute,
            trust_forwarded_for,
        })
    }
}

impl RawConfig {
    /// Postmark connection and sync settings; `None` for the connection without a token.
    pub fn inventory(&self) -> Result<InventoryConfig, ConfigError> {
        let parse_api_url = |v: &str| {
            let url = Url::parse(v).map_err(|e| format!("not a URL: {e}"))?;
            match url.scheme() {
                "https" | "http" => Ok(url),
                _ => Err("must be an http(s) URL".to_string()),
            }
        };
        let api_url = match self.parse("POSTMARK_API_URL", parse_api_url)? {
            Some(url) => url,
            None => {
                parse_api_url(DEFAULT_POSTMARK_API_URL).map_err(|reason| ConfigError::Invalid {
                    key: format!("{ENV_PREFIX}POSTMARK_API_URL"),
                    origin: "the default".to_string(),
                    reason,
                })?
            }
        };
        let account_token = self.parse("POSTMARK_ACCOUNT_TOKEN", |v| {
            Ok(SecretString::from(v.to_string()))
        })?;
        let sync_interval = self
            .parse("SYNC_INTERVAL", |v| {
                if v == "0" {
                    Ok(None)
                } else {
                    parse_duration(v).map(Some)
                }
            })?
            .unwrap_or(Some(Duration::from_secs(6 * 3600)));
        let webhook_host_allowlist = self
            .parse("WEBHOOK_HOST_ALLOWLIST", |v| {
                Ok(v.split(',')
                    .map(|h| h.trim().to_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect())
            })?
            .unwrap_or_default();
        let users_url = self.parse("POSTMARK_USERS_URL", |v| {
            Url::parse(v)
                .map_err(|e| format!("not a URL: {e}"))
                .and_then(|u| match u.scheme() {
                    "https" | "http" => Ok(u),
                    _ => Err("must be an http(s) URL".to_string()),
                })
        })?;
        let users_token = self.parse("POSTMARK_USERS_TOKEN", |v| {
            Ok(SecretString::from(v.to_string()))
        })?;
        let users_gateway = match (users_url, users_token) {
            (Some(url), Some(token)) => Some((url, token)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    key: format!("{ENV_PREFIX}POSTMARK_USERS_TOKEN"),
                    hint: "the users gateway needs its bearer token",
                })
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing {
                    key: format!("{ENV_PREFIX}POSTMARK_USERS_URL"),
                    hint: "a users gateway token was given without the gateway's URL",
                })
            }
        };
        Ok(InventoryConfig {
            api_url,
            account_token,
            users_gateway,
            sync_interval,
            webhook_host_allowlist,
        })
    }
}

impl RawConfig {
    /// Campaign defaults and the campaign schedule.
    pub fn campaigns(&self) -> Result<CampaignConfig, ConfigError> {
        let defaults = CampaignConfig::default();
        let days = |v: &str| parse_in_range(v, 0u32, 3650);
        Ok(CampaignConfig {
            stale_sync_days: self
                .parse("STALE_SYNC_DAYS", |v| parse_in_range(v, 1u32, 3650))?
                .unwrap_or(defaults.stale_sync_days),
            grace_days: self
                .parse("CLOSE_GRACE_DAYS", days)?
                .unwrap_or(defaults.grace_days),
            check_interval: self
                .parse("CAMPAIGN_CHECK_INTERVAL", parse_duration)?
                .unwrap_or(defaults.check_interval),
        })
    }
}

/// Campaign defaults and how often the campaign schedule runs.
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    /// Preview warns when the last successful sync is at least this many days old.
    pub stale_sync_days: u32,
    /// An open campaign closes by itself this many days after its due date.
    pub grace_days: u32,
    pub check_interval: Duration,
}

impl Default for CampaignConfig {
    fn default() -> Self {
        Self {
            stale_sync_days: 7,
            grace_days: 3,
            check_interval: Duration::from_secs(60),
        }
    }
}

/// Where the inventory comes from and how often.
#[derive(Debug, Clone)]
pub struct InventoryConfig {
    pub api_url: Url,
    pub account_token: Option<SecretString>,
    /// `None`: no scheduled syncs.
    pub sync_interval: Option<Duration>,
    /// Lower-cased host names.
    pub webhook_host_allowlist: Vec<String>,
    /// Base URL and token of the users gateway, when there is one.
    pub users_gateway: Option<(Url, SecretString)>,
}

/// How the application authenticates at the provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic authorization header.
    Basic,
    /// `client_secret_post`: id and secret in the form body.
    Post,
}

/// Sign-in and session settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Exactly as configured: providers compare the issuer as a string, and a host-only URL
    /// must not gain a trailing slash.
    pub issuer: String,
    /// Grant roles from the email lists even when the provider does not assert
    /// `email_verified: true` (providers such as Entra ID never send the claim).
    pub trust_unverified_email: bool,
    pub client_id: String,
    pub client_secret: SecretString,
    pub client_auth: ClientAuth,
    pub scopes: Vec<String>,
    pub groups_claim: Option<String>,
    pub admin_group: Option<String>,
    pub auditor_group: Option<String>,
    /// Lower-cased.
    pub admin_emails: Vec<Email>,
    /// Lower-cased.
    pub auditor_emails: Vec<Email>,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub rate_limit_per_minute: u32,
    pub trust_forwarded_for: bool,
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("expected true or false, got `{value}`")),
    }
}

/// `8h`, `30m`, `90s`, `2d` or a number of seconds.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let (number, unit) = value
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| value.split_at(i))
        .unwrap_or((value, "s"));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 8h, 30m or 90s, got `{value}`"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit in `{value}`: use s, m, h or d")),
    };
    if seconds == 0 {
        return Err("must be longer than zero".to_string());
    }
    Ok(Duration::from_secs(seconds))
}

fn parse_email_list(value: &str) -> Result<Vec<Email>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| Email::parse(e).map_err(|_| format!("`{e}` is not an email address")))
        .collect()
}

/// Issuer URLs must be https, except on the loopback interface (local test providers).
fn parse_issuer(value: &str) -> Result<String, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("must be an https:// URL".to_string()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not contain a query or fragment".to_string());
    }
    Ok(value.to_string())
}

fn known_key(name: &str) -> Option<&'static str> {
    KEYS.iter().map(|(k, _)| *k).find(|k| *k == name)
}

fn parse_in_range<T>(value: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let n: T = value
        .parse()
        .map_err(|_| format!("expected a whole number, got `{value}`"))?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}, got {n}"));
    }
    Ok(n)
}

fn parse_database_url(value: &str) -> Result<SecretString, String> {
    // Never echo the value: it may carry a password.
    let valid = if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        // The driver's own parser decides; its message is not repeated, as it may quote the URL.
        <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(value).is_ok()
    } else if value.starts_with("sqlite:") {
        <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(value).is_ok()
    } else {
        return Err("expected a URL starting with sqlite: or postgres://".to_string());
    };
    if valid {
        Ok(SecretString::from(value.to_string()))
    } else {
        Err(
            "the URL could not be parsed (the value is not shown: it may hold a password)"
                .to_string(),
        )
    }
}

fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".to_string());
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err("must be a plain http(s)://host[:port] address".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".to_string());
    }
    // Routes are mounted at the root; a path prefix would silently break every link.
    if url.path() != "/" {
        return Err(
            "must not have a path: serve the application at the root of a host".to_string(),
        );
    }
    Ok(url)
}

/// Database connection settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    pub level: String,
}

/// HTTP server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub public_url: Url,
    pub bind_addr: SocketAddr,
    pub max_body_bytes: usize,
    pub site_root: PathBuf,
}

impl ServerConfig {
    /// Whether cookies and HSTS must assume TLS.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The origin (`scheme://host[:port]`) browsers send in the `Origin` header.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn missing_public_url_names_the_key() {
        let raw = RawConfig::load(None, env(&[])).unwrap();
        let err = raw.server().unwrap_err().to_string();
        assert!(err.starts_with("PAR_PUBLIC_URL is required"), "{err}");
    }

    #[test]
    fn invalid_values_name_key_and_origin() {
        let raw = RawConfig::load(None, env(&[("PAR_BIND_ADDR", "nowhere")])).unwrap();
        let raw = {
            let mut r = raw;
            r.set("PUBLIC_URL", "http://localhost:3000");
            r
        };
        let err = raw.server().unwrap_err().to_string();
        assert!(
            err.contains("PAR_BIND_ADDR is invalid (from the environment)"),
            "{err}"
        );
    }

    #[test]
    fn malformed_postgres_url_names_the_key() {
        let raw = RawConfig::load(
            None,
            env(&[("PAR_DATABASE_URL", "postgres://u:hunter2@[::1/db")]),
        )
        .unwrap();
        let err = raw.database().unwrap_err().to_string();
        assert!(err.starts_with("PAR_DATABASE_URL is invalid"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn database_url_error_does_not_echo_the_value() {
        let raw =
            RawConfig::load(None, env(&[("PAR_DATABASE_URL", "mysql://u:hunter2@x/db")])).unwrap();
        let err = raw.database().unwrap_err().to_string();
        assert!(err.contains("PAR_DATABASE_URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn environment_overrides_file_and_file_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("par.toml");
        std::fs::write(
            &path,
            "public_url = \"https://file.example\"\nmax_body_bytes = 4096\n",
        )
        .unwrap();
        let raw = RawConfig::load(
            Some(&path),
            env(&[("PAR_PUBLIC_URL", "https://env.example")]),
        )
        .unwrap();
        let server = raw.server().unwrap();
        assert_eq!(server.public_url.as_str(), "https://env.example/");
        assert_eq!(server.max_body_bytes, 4096);
        assert!(server.is_https());

        std::fs::write(&path, "pubic_url = \"x\"\n").unwrap();
        let err = RawConfig::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key `pubic_url`"), "{err}");
    }

    #[test]
    fn auth_keys_are_required_and_parsed() {
        let err = RawConfig::load(None, env(&[])).unwrap().auth().unwrap_err();
        assert!(
            err.to_string().starts_with("PAR_OIDC_ISSUER is required"),
            "{err}"
        );
        let raw = RawConfig::load(
            None,
            env(&[
                ("PAR_OIDC_ISSUER", "https://idp.example/realms/x"),
                ("PAR_OIDC_CLIENT_ID", "par"),
                ("PAR_OIDC_CLIENT_SECRET", "s3cret"),
                ("PAR_OIDC_CLIENT_AUTH", "client_secret_post"),
                ("PAR_ADMIN_EMAILS", " Ada@Example.com, bob@example.com "),
                ("PAR_SESSION_IDLE_TIMEOUT", "30m"),
            ]),
        )
        .unwrap();
        let auth = raw.auth().unwrap();
        assert_eq!(auth.client_auth, ClientAuth::Post);
        assert_eq!(auth.admin_emails, ["ada@example.com", "bob@example.com"]);
        assert_eq!(auth.session_idle, Duration::from_secs(1800));
        assert_eq!(auth.session_max, Duration::from_secs(86_400));
        assert_eq!(auth.scopes, ["email", "profile"]);
    }

    #[test]
    fn issuer_must_be_https_except_on_loopback() {
        assert!(parse_issuer("http://idp.example").is_err());
        assert!(parse_issuer("http://127.0.0.1:9000/dev-idp").is_ok());
        assert!(parse_issuer("https://login.microsoftonline.com/tenant/v2.0").is_ok());
        // Host-only issuers (Google, Okta) stay exactly as written: no trailing slash added.
        assert_eq!(
            parse_issuer("https://accounts.google.com").unwrap(),
            "https://accounts.google.com"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("8h").unwrap(), Duration::from_secs(28_800));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("8 hours").is_err());
    }

    #[test]
    fn public_url_must_be_plain_http() {
        for bad in ["ftp://x", "https://u:p@x", "https://x/?a=1", "not a url"] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
        assert!(parse_public_url("https://access.example.com/review").is_err());
        assert!(parse_public_url("https://access.example.com").is_ok());
    }

    #[test]
    fn every_key_is_documented() {
        let root = env!("CARGO_MANIFEST_DIR");
        let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
        let example = std::fs::read_to_string(format!("{root}/.env.example")).unwrap();
        for (key, _) in KEYS {
            let name = format!("PAR_{key}");
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} missing from README.md"
            );
            assert!(
                example.contains(&format!("{name}=")),
                "{name} missing from .env.example"
            );
        }
    }
}
