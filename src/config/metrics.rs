//! Who may read `/metrics`: scrapers with a bearer token, anyone who reaches a listen address
//! of its own, or nobody (the default: the request counts would tell outsiders which pages
//! people use and when).

use std::net::SocketAddr;

use secrecy::SecretString;

use super::{ConfigError, RawConfig, ENV_PREFIX};

/// Shortest token accepted: a scrape token is compared in constant time, but a short one can
/// still be guessed.
const MIN_TOKEN_LEN: usize = 16;

/// Where `/metrics` is served and what it asks for.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    /// `PAR_METRICS_TOKEN`: scrapers send `Authorization: Bearer <token>`.
    pub token: Option<SecretString>,
    /// `PAR_METRICS_ADDR`: `/metrics` is served there instead of on the main listener
    /// (still behind the token when one is set).
    pub addr: Option<SocketAddr>,
}

impl MetricsConfig {
    /// Whether the main listener answers `/metrics` (with the token); otherwise it is a 404.
    pub fn on_main_listener(&self) -> bool {
        self.addr.is_none() && self.token.is_some()
    }
}

impl RawConfig {
    /// `PAR_METRICS_TOKEN` and `PAR_METRICS_ADDR`; the address must differ from `bind_addr`.
    pub(super) fn metrics(&self, bind_addr: SocketAddr) -> Result<MetricsConfig, ConfigError> {
        let token = self.parse("METRICS_TOKEN", |v| {
            // Never echo the value: it is a secret.
            if v.chars().count() < MIN_TOKEN_LEN || v.chars().any(char::is_whitespace) {
                Err(format!(
                    "must be at least {MIN_TOKEN_LEN} characters without spaces (e.g. the \
                     output of `openssl rand -hex 32`)"
                ))
            } else {
                Ok(SecretString::from(v.to_string()))
            }
        })?;
        let addr = self.parse("METRICS_ADDR", |v| {
            let addr = v
                .parse::<SocketAddr>()
                .map_err(|_| format!("expected host:port such as 127.0.0.1:9100, got `{v}`"))?;
            if addr == bind_addr {
                return Err(format!(
                    "must differ from {ENV_PREFIX}BIND_ADDR ({bind_addr}): it is a listener of its own"
                ));
            }
            Ok(addr)
        })?;
        Ok(MetricsConfig { token, addr })
    }
}
