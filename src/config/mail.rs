//! Outgoing mail: the Postmark server that sends approval links, reminders and escalations.
//! Kept apart from the inventory settings because it uses a different token (a server token,
//! not the account token) and is optional: without it the app runs and says mail is off.

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, RawConfig, ENV_PREFIX};
use crate::email::Email;

/// The message stream Postmark uses for transactional email when none is named.
pub const DEFAULT_MAIL_STREAM: &str = "outbound";

/// Where and as whom emails are sent.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The Postmark API (the same base URL as the inventory's, `PAR_POSTMARK_API_URL`).
    pub api_url: Url,
    pub server_token: SecretString,
    /// `addr@example.com` or `Name <addr@example.com>`; Postmark requires a confirmed sender
    /// signature or domain for it.
    pub from: String,
    pub stream: String,
}

impl RawConfig {
    /// Mail settings; `None` when no server token is configured (mail is off).
    pub fn mail(&self) -> Result<Option<MailConfig>, ConfigError> {
        let server_token = self.parse("POSTMARK_SERVER_TOKEN", |v| {
            Ok(SecretString::from(v.to_string()))
        })?;
        let from = self.parse("MAIL_FROM", parse_sender)?;
        let stream = self
            .parse("MAIL_STREAM", |v| {
                if v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    Ok(v.to_string())
                } else {
                    Err(format!("`{v}` is not a message stream id"))
                }
            })?
            .unwrap_or_else(|| DEFAULT_MAIL_STREAM.to_string());
        let Some(server_token) = server_token else {
            return Ok(None);
        };
        let from = from.ok_or(ConfigError::Missing {
            key: format!("{ENV_PREFIX}MAIL_FROM"),
            hint: "emails need a sender: an address with a confirmed Postmark sender signature, \
                   e.g. Access Review <access-review@example.com>",
        })?;
        let api_url = self.inventory()?.api_url;
        Ok(Some(MailConfig {
            api_url,
            server_token,
            from,
            stream,
        }))
    }
}

/// `addr@example.com` or `Display Name <addr@example.com>`.
fn parse_sender(value: &str) -> Result<String, String> {
    let address = match value.rsplit_once('<') {
        Some((name, rest)) => {
            let Some(address) = rest.strip_suffix('>') else {
                return Err(format!("expected Name <address>, got `{value}`"));
            };
            if name.contains(['<', '>', '"', '\r', '\n']) {
                return Err(format!(
                    "the display name in `{value}` has unusual characters"
                ));
            }
            address
        }
        None => value,
    };
    Email::parse(address)
        .map(|_| value.to_string())
        .map_err(|_| format!("`{address}` is not an email address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    fn raw(pairs: &[(&str, &str)]) -> RawConfig {
        RawConfig::load(
            None,
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap()
    }

    #[test]
    fn mail_is_off_without_a_server_token() {
        assert!(raw(&[]).mail().unwrap().is_none());
    }

    #[test]
    fn a_server_token_needs_a_sender() {
        let err = raw(&[("PAR_POSTMARK_SERVER_TOKEN", "secret-server-token")])
            .mail()
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("PAR_MAIL_FROM is required"), "{err}");
        assert!(!err.contains("secret-server-token"), "{err}");
    }

    #[test]
    fn mail_settings_are_parsed() {
        let mail = raw(&[
            ("PAR_POSTMARK_SERVER_TOKEN", "t"),
            ("PAR_MAIL_FROM", "Access Review <review@example.com>"),
        ])
        .mail()
        .unwrap()
        .unwrap();
        assert_eq!(mail.stream, "outbound");
        assert_eq!(mail.server_token.expose_secret(), "t");
        assert_eq!(mail.from, "Access Review <review@example.com>");
        assert!(raw(&[("PAR_MAIL_FROM", "Review <not-an-address>")])
            .mail()
            .is_err());
        assert!(raw(&[("PAR_MAIL_STREAM", "two words")]).mail().is_err());
    }
}
