//! Secrets travel to three configured addresses: the public URL (session cookies, sign-in
//! codes, review links), the Postmark API (the account and server tokens) and the users gateway
//! (its bearer token). `serve` and `sync` refuse plain `http://` to any of them unless the host
//! is this machine, or `PAR_ALLOW_PLAIN_HTTP=true` says a TLS-terminating proxy beside the app
//! (a sidecar) encrypts the traffic.

use url::{Host, Url};

use super::{parse_bool, ConfigError, InventoryConfig, RawConfig, ENV_PREFIX};

/// Whether `url` names this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

impl RawConfig {
    /// Refuses an `http://` URL to another machine among the public URL (when the command
    /// serves pages), the Postmark API URL and the users gateway URL, naming the key.
    pub fn refuse_plain_http(
        &self,
        public_url: Option<&Url>,
        inventory: &InventoryConfig,
    ) -> Result<(), ConfigError> {
        if self.parse("ALLOW_PLAIN_HTTP", parse_bool)?.unwrap_or(false) {
            return Ok(());
        }
        let urls = [
            ("PUBLIC_URL", public_url),
            ("POSTMARK_API_URL", Some(&inventory.api_url)),
            (
                "POSTMARK_USERS_URL",
                inventory.users_gateway.as_ref().map(|(url, _)| url),
            ),
        ];
        for (key, url) in urls {
            let Some(url) = url else { continue };
            if url.scheme() == "http" && !is_loopback(url) {
                return Err(ConfigError::Invalid {
                    key: format!("{ENV_PREFIX}{key}"),
                    origin: self
                        .get(key)
                        .map_or_else(|| "the default".to_string(), |(_, o)| o.to_string()),
                    reason: format!(
                        "plain http:// to {} would carry secrets unencrypted: use https://, or \
                         set {ENV_PREFIX}ALLOW_PLAIN_HTTP=true when a TLS-terminating proxy on \
                         this host carries the traffic",
                        url.host_str().unwrap_or("another host")
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(api: &str, users: Option<&str>) -> InventoryConfig {
        InventoryConfig {
            snapshot_retention_days: crate::config::DEFAULT_SNAPSHOT_RETENTION_DAYS,
            api_url: api.parse().unwrap(),
            account_token: None,
            sync_interval: None,
            webhook_host_allowlist: vec![],
            users_gateway: users.map(|u| (u.parse().unwrap(), "t".to_string().into())),
        }
    }

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://localhost:3000",
            "http://LOCALHOST",
            "http://127.0.0.1:4010/",
            "http://127.8.9.10/",
            "http://[::1]:3000",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(is_loopback(&url.parse().unwrap()), "{url}");
        }
        for url in [
            "http://10.0.0.5",
            "http://localhost.example.com",
            "http://[::2]",
            "http://0.0.0.0",
            "http://api.postmarkapp.com",
        ] {
            assert!(!is_loopback(&url.parse().unwrap()), "{url}");
        }
    }

    #[test]
    fn plain_http_to_another_host_is_refused_by_key_unless_allowed() {
        let raw = RawConfig::default();
        let public: Url = "https://access.example.com".parse().unwrap();
        let fine = inventory(
            "https://api.postmarkapp.com/",
            Some("http://127.0.0.1:9000/gateway/"),
        );
        assert!(raw.refuse_plain_http(Some(&public), &fine).is_ok());

        let plain_public: Url = "http://access.example.com".parse().unwrap();
        let err = raw
            .refuse_plain_http(Some(&plain_public), &fine)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("PAR_PUBLIC_URL is invalid"), "{err}");
        assert!(err.contains("PAR_ALLOW_PLAIN_HTTP=true"), "{err}");

        let plain_api = inventory("http://api.postmarkapp.com/", None);
        let err = raw.refuse_plain_http(None, &plain_api).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("PAR_POSTMARK_API_URL is invalid"),
            "{err}"
        );

        let plain_users = inventory(
            "https://api.postmarkapp.com/",
            Some("http://users.internal/gateway/"),
        );
        let err = raw.refuse_plain_http(None, &plain_users).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("PAR_POSTMARK_USERS_URL is invalid"),
            "{err}"
        );

        let mut allowed = RawConfig::default();
        allowed.set("ALLOW_PLAIN_HTTP", "true");
        assert!(allowed
            .refuse_plain_http(Some(&plain_public), &plain_users)
            .is_ok());
    }
}
