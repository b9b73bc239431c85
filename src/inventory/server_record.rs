//! A server as the inventory stores and compares it: the Account API's fields, with API tokens
//! only as fingerprints and webhook URLs without their credentials (a keyed fingerprint of
//! those instead), so neither secret is ever written down.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::postmark::{hook_url, ServerInfo};

/// A server as stored and compared. Activity is kept apart because it changes at every sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub postmark_id: i64,
    pub name: String,
    pub color: Option<String>,
    pub server_link: Option<String>,
    pub smtp_api_activated: bool,
    pub raw_email_enabled: bool,
    pub track_opens: bool,
    pub track_links: Option<String>,
    /// Webhook URLs without credentials (see [`hook_url`]).
    pub delivery_hook_url: Option<String>,
    pub inbound_hook_url: Option<String>,
    pub bounce_hook_url: Option<String>,
    pub open_hook_url: Option<String>,
    pub click_hook_url: Option<String>,
    /// Fingerprints of the credentials the webhook URLs carried, when they did: a changed
    /// password is a change of the server. Left out of the snapshot when absent, so servers
    /// without credentials compare equal to their snapshots from before these fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_hook_credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_hook_credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounce_hook_credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_hook_credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_hook_credentials: Option<String>,
    pub inbound_address: Option<String>,
    pub inbound_domain: Option<String>,
    #[serde(default)]
    pub inbound_hash: Option<String>,
    #[serde(default)]
    pub inbound_spam_threshold: Option<i64>,
    #[serde(default)]
    pub post_first_open_only: bool,
    pub token_fingerprints: Vec<String>,
}

/// The five webhook fields of a snapshot, each with the field of its credentials' fingerprint.
pub const HOOK_FIELDS: [(&str, &str); 5] = [
    ("delivery_hook_url", "delivery_hook_credentials"),
    ("inbound_hook_url", "inbound_hook_credentials"),
    ("bounce_hook_url", "bounce_hook_credentials"),
    ("open_hook_url", "open_hook_credentials"),
    ("click_hook_url", "click_hook_credentials"),
];

/// First 12 hex digits of SHA-256: enough to tell tokens apart and see a rotation, useless to
/// recover a token (tokens are random UUIDs).
pub fn fingerprint(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))[..12].to_string()
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

/// A webhook URL as stored (no credentials) and its credentials' fingerprint under `key`.
pub fn stored_hook(url: &Option<String>, key: &[u8]) -> (Option<String>, Option<String>) {
    match non_empty(url) {
        None => (None, None),
        Some(url) => {
            let split = hook_url::split(&url);
            let credentials = split.credentials.map(|c| hook_url::fingerprint(key, c));
            (Some(split.url), credentials)
        }
    }
}

impl ServerRecord {
    /// The record of a server as the API describes it; `key` fingerprints webhook credentials
    /// (see [`super::hook_credentials::key`]).
    pub fn new(s: &ServerInfo, key: &[u8]) -> Self {
        let (delivery_hook_url, delivery_hook_credentials) = stored_hook(&s.delivery_hook_url, key);
        let (inbound_hook_url, inbound_hook_credentials) = stored_hook(&s.inbound_hook_url, key);
        let (bounce_hook_url, bounce_hook_credentials) = stored_hook(&s.bounce_hook_url, key);
        let (open_hook_url, open_hook_credentials) = stored_hook(&s.open_hook_url, key);
        let (click_hook_url, click_hook_credentials) = stored_hook(&s.click_hook_url, key);
        Self {
            postmark_id: s.id,
            name: s.name.clone(),
            color: non_empty(&s.color),
            server_link: non_empty(&s.server_link),
            smtp_api_activated: s.smtp_api_activated,
            raw_email_enabled: s.raw_email_enabled,
            track_opens: s.track_opens,
            track_links: non_empty(&s.track_links),
            delivery_hook_url,
            inbound_hook_url,
            bounce_hook_url,
            open_hook_url,
            click_hook_url,
            delivery_hook_credentials,
            inbound_hook_credentials,
            bounce_hook_credentials,
            open_hook_credentials,
            click_hook_credentials,
            inbound_address: non_empty(&s.inbound_address),
            inbound_domain: non_empty(&s.inbound_domain),
            inbound_hash: non_empty(&s.inbound_hash),
            inbound_spam_threshold: s.inbound_spam_threshold,
            post_first_open_only: s.post_first_open_only,
            token_fingerprints: s.api_tokens.iter().map(|t| fingerprint(t)).collect(),
        }
    }

    /// The `servers.hook_credentials` column: webhook field → fingerprint, `None` when no
    /// webhook URL carried credentials.
    pub fn hook_credentials(&self) -> Option<String> {
        let map: BTreeMap<&str, &String> = [
            ("delivery_hook_url", &self.delivery_hook_credentials),
            ("inbound_hook_url", &self.inbound_hook_credentials),
            ("bounce_hook_url", &self.bounce_hook_credentials),
            ("open_hook_url", &self.open_hook_credentials),
            ("click_hook_url", &self.click_hook_credentials),
        ]
        .into_iter()
        .filter_map(|(field, fingerprint)| fingerprint.as_ref().map(|f| (field, f)))
        .collect();
        (!map.is_empty()).then(|| serde_json::to_string(&map).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_short_and_stable() {
        let f = fingerprint("d6c4a4b5-4f6e-4d4e-9c7b-0f1f2e3d4c5b");
        assert_eq!(f.len(), 12);
        assert_eq!(f, fingerprint("d6c4a4b5-4f6e-4d4e-9c7b-0f1f2e3d4c5b"));
        assert_ne!(f, fingerprint("another"));
    }

    #[test]
    fn webhook_credentials_become_a_fingerprint() {
        let mut server = ServerInfo::sample(1, "Billing", &["t1"]);
        server.bounce_hook_url = Some("https://hooks:hunter2@hooks.example.com/b".into());
        server.open_hook_url = Some("https://hooks.example.com/o".into());
        let record = ServerRecord::new(&server, b"install key");
        assert_eq!(
            record.bounce_hook_url.as_deref(),
            Some("https://hooks.example.com/b")
        );
        let fp = record.bounce_hook_credentials.clone().unwrap();
        assert_eq!(fp, hook_url::fingerprint(b"install key", "hooks:hunter2"));
        assert_eq!(record.open_hook_credentials, None);
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(!json.contains("open_hook_credentials"), "{json}");
        assert_eq!(
            record.hook_credentials().unwrap(),
            format!("{{\"bounce_hook_url\":\"{fp}\"}}")
        );
        // A new password is a change.
        server.bounce_hook_url = Some("https://hooks:hunter3@hooks.example.com/b".into());
        assert_ne!(ServerRecord::new(&server, b"install key"), record);
    }
}
