//! Typed configuration from `PAR_*` environment variables and an optional TOML file.
//!
//! Every key is listed once in [`KEYS`]; the README and `.env.example` document the same list.
//! The environment wins over the file, so a deployment can keep a file of defaults and override a
//! value per host. Errors name the key as the operator would write it (`PAR_PUBLIC_URL`).

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path, path::PathBuf, time::Duration};

use secrecy::SecretString;
use url::Url;

use crate::email::Email;

mod keys;
mod mail;
mod metrics;
mod parse;
mod revocations;
mod signing;
mod timeouts;
mod transport;

pub use keys::KEYS;
pub use mail::{MailConfig, DEFAULT_MAIL_STREAM};
pub use metrics::MetricsConfig;
use parse::{
    known_key, parse_bool, parse_database_url, parse_duration, parse_email_list, parse_in_range,
    parse_issuer, parse_public_url,
};
pub use revocations::DEFAULT_REVOCATION_LEASE;
pub use signing::{SigningConfig, DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_SIGNING_KEY_FILE};
pub use timeouts::Timeouts;

/// Prefix of every environment variable the application reads.
pub const ENV_PREFIX: &str = "PAR_";

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
        let metrics = self.metrics(bind_addr)?;
        let timeouts = self.timeouts()?;
        Ok(ServerConfig {
            public_url,
            bind_addr,
            max_body_bytes,
            site_root,
            metrics,
            timeouts,
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
        let fulfilment_emails = self
            .parse("FULFILMENT_EMAILS", parse_email_list)?
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
        // `TRUST_FORWARDED_FOR=true` (the older key) means one proxy.
        let trusted_proxy_hops =
            match self.parse("TRUSTED_PROXY_HOPS", |v| parse_in_range(v, 0u8, 10))? {
                Some(hops) => hops,
                None => u8::from(
                    self.parse("TRUST_FORWARDED_FOR", parse_bool)?
                        .unwrap_or(false),
                ),
            };
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
            fulfilment_emails,
            session_idle,
            session_max,
            rate_limit_per_minute,
            trusted_proxy_hops,
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
        let snapshot_retention_days = self
            .parse("SNAPSHOT_RETENTION_DAYS", |v| {
                parse_in_range(v, 30u32, 36500)
            })?
            .unwrap_or(DEFAULT_SNAPSHOT_RETENTION_DAYS);
        Ok(InventoryConfig {
            api_url,
            snapshot_retention_days,
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
            offboarding_deadline: self
                .offboarding_deadline()?
                .unwrap_or(defaults.offboarding_deadline),
            email_aliases: self
                .parse("EMAIL_ALIASES", parse::parse_alias_groups)?
                .unwrap_or_default(),
        })
    }

    /// `PAR_OFFBOARDING_DEADLINE` when set (the demo has a default of its own).
    pub fn offboarding_deadline(&self) -> Result<Option<Duration>, ConfigError> {
        self.parse("OFFBOARDING_DEADLINE", parse_duration)
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
    /// A leaver whose access is not proved gone this long after the identity provider
    /// deactivated them is flagged on the Offboarding page.
    pub offboarding_deadline: Duration,
    /// Groups of lower-cased emails that are one person (`PAR_EMAIL_ALIASES`).
    pub email_aliases: Vec<Vec<String>>,
}

impl Default for CampaignConfig {
    fn default() -> Self {
        Self {
            stale_sync_days: 7,
            grace_days: 3,
            check_interval: Duration::from_secs(60),
            offboarding_deadline: Duration::from_secs(24 * 3600),
            email_aliases: Vec::new(),
        }
    }
}

/// Where the inventory comes from and how often.
/// Default for `PAR_SNAPSHOT_RETENTION_DAYS`: a year of quarterly reviews and the one before.
pub const DEFAULT_SNAPSHOT_RETENTION_DAYS: u32 = 400;

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
    /// Snapshot versions that ended longer ago than this go (see `inventory::snapshots`).
    pub snapshot_retention_days: u32,
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
    /// The Postmark account admins who carry out manual revocations: emailed each task, and
    /// allowed on the task pages.
    pub fulfilment_emails: Vec<Email>,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub rate_limit_per_minute: u32,
    /// Reverse proxies in front of the app that each add an `X-Forwarded-For` entry: the
    /// client is the entry this many places from the right (0: the peer address).
    pub trusted_proxy_hops: u8,
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
    /// Who may read `/metrics`, and where.
    pub metrics: MetricsConfig,
    /// Request and header-read time limits.
    pub timeouts: Timeouts,
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
mod tests;
