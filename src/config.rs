//! Typed configuration from `PAR_*` environment variables and an optional TOML file.
//!
//! Every key is listed once in [`KEYS`]; the README and `.env.example` document the same list.
//! The environment wins over the file, so a deployment can keep a file of defaults and override a
//! value per host. Errors name the key as the operator would write it (`PAR_PUBLIC_URL`).

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path, path::PathBuf};

use secrecy::SecretString;
use url::Url;

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
];

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
                None => tracing::warn!(variable = %name, "ignoring unknown configuration variable"),
            }
        }
        Ok(raw)
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
    if value.starts_with("sqlite:")
        || value.starts_with("postgres://")
        || value.starts_with("postgresql://")
    {
        Ok(SecretString::from(value.to_string()))
    } else {
        Err("expected a URL starting with sqlite: or postgres://".to_string())
    }
}

fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".to_string());
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err("must be a plain http(s)://host[:port][/path] address".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".to_string());
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
    fn public_url_must_be_plain_http() {
        for bad in ["ftp://x", "https://u:p@x", "https://x/?a=1", "not a url"] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
        assert!(parse_public_url("https://access.example.com/review").is_ok());
    }
}
