//! Talking to Postmark: the Account API for servers and the Server API for activity.
//!
//! Requests are described with the `postmark` crate's `Endpoint` trait and carried by our own
//! [`Transport`] (timeouts, retries, token headers). Response types follow the official API
//! description in `shared/postmark/account-api.yaml` field for field, because the crate's own
//! `Server` type carries only four of them.

pub mod email;
pub mod gateway;
pub mod hook_url;
pub mod servers;
pub mod simulator;
pub mod transport;

use std::{borrow::Cow, time::Duration};

use ::postmark::{Endpoint, Query as _, QueryError};
use http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

pub use transport::{RetryPolicy, Token, Transport, TransportError};

/// Postmark's largest page for `GET /servers`.
pub const MAX_PAGE: i64 = 500;

/// A server as the Account API describes it (`ExtendedServerInfo`). `Debug` shows how many API
/// tokens it has, never the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerInfo {
    #[serde(rename = "ID")]
    pub id: i64,
    pub name: String,
    /// Plain secrets: fingerprint them, never store or log them.
    #[serde(default)]
    pub api_tokens: Vec<String>,
    #[serde(default)]
    pub server_link: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub smtp_api_activated: bool,
    #[serde(default)]
    pub raw_email_enabled: bool,
    #[serde(default)]
    pub delivery_hook_url: Option<String>,
    #[serde(default)]
    pub inbound_address: Option<String>,
    #[serde(default)]
    pub inbound_hook_url: Option<String>,
    #[serde(default)]
    pub bounce_hook_url: Option<String>,
    #[serde(default)]
    pub open_hook_url: Option<String>,
    #[serde(default)]
    pub post_first_open_only: bool,
    #[serde(default)]
    pub track_opens: bool,
    #[serde(default)]
    pub track_links: Option<String>,
    #[serde(default)]
    pub click_hook_url: Option<String>,
    #[serde(default)]
    pub inbound_domain: Option<String>,
    #[serde(default)]
    pub inbound_hash: Option<String>,
    #[serde(default)]
    pub inbound_spam_threshold: Option<i64>,
}

// The API tokens are secrets, and so are credentials in a webhook URL: a `{:?}` in a log line
// must not carry them.
impl std::fmt::Debug for ServerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tokens = format!("[{} redacted]", self.api_tokens.len());
        f.debug_struct("ServerInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("api_tokens", &format_args!("{tokens}"))
            .field("server_link", &self.server_link)
            .field("color", &self.color)
            .field("smtp_api_activated", &self.smtp_api_activated)
            .field("raw_email_enabled", &self.raw_email_enabled)
            .field(
                "delivery_hook_url",
                &self.delivery_hook_url.as_deref().map(hook_url::redacted),
            )
            .field("inbound_address", &self.inbound_address)
            .field(
                "inbound_hook_url",
                &self.inbound_hook_url.as_deref().map(hook_url::redacted),
            )
            .field(
                "bounce_hook_url",
                &self.bounce_hook_url.as_deref().map(hook_url::redacted),
            )
            .field(
                "open_hook_url",
                &self.open_hook_url.as_deref().map(hook_url::redacted),
            )
            .field("post_first_open_only", &self.post_first_open_only)
            .field("track_opens", &self.track_opens)
            .field("track_links", &self.track_links)
            .field(
                "click_hook_url",
                &self.click_hook_url.as_deref().map(hook_url::redacted),
            )
            .field("inbound_domain", &self.inbound_domain)
            .field("inbound_hash", &self.inbound_hash)
            .field("inbound_spam_threshold", &self.inbound_spam_threshold)
            .finish()
    }
}

/// One page of `GET /servers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServersPage {
    pub total_count: i64,
    pub servers: Vec<ServerInfo>,
}

/// `GET /servers?count=&offset=`.
#[derive(Debug, Serialize)]
struct ListServers {
    #[serde(skip)]
    count: i64,
    #[serde(skip)]
    offset: i64,
}

impl Endpoint for ListServers {
    type Request = Self;
    type Response = ServersPage;

    fn endpoint(&self) -> Cow<'static, str> {
        format!("/servers?count={}&offset={}", self.count, self.offset).into()
    }

    fn body(&self) -> &Self::Request {
        self
    }

    fn method(&self) -> http::Method {
        http::Method::GET
    }
}

/// The `Sent` figure of `GET /stats/outbound`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutboundOverview {
    pub sent: i64,
}

#[derive(Debug, Serialize)]
struct OutboundStats {
    #[serde(skip)]
    from: String,
    #[serde(skip)]
    to: String,
}

impl Endpoint for OutboundStats {
    type Request = Self;
    type Response = OutboundOverview;

    fn endpoint(&self) -> Cow<'static, str> {
        format!("/stats/outbound?fromdate={}&todate={}", self.from, self.to).into()
    }

    fn body(&self) -> &Self::Request {
        self
    }

    fn method(&self) -> http::Method {
        http::Method::GET
    }
}

/// What went wrong talking to Postmark, in words an admin can act on. Never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostmarkError {
    #[error("Postmark refused the token (401): check the configured token")]
    Unauthorized,
    #[error("Postmark rejected the request (422, error code {code}): {message}")]
    Rejected { code: i64, message: String },
    #[error("Postmark kept throttling requests (429) after retries")]
    RateLimited,
    #[error("Postmark had a server error ({0}) after retries")]
    ServerError(u16),
    #[error("Postmark answered with unexpected status {0}")]
    UnexpectedStatus(u16),
    #[error("could not reach Postmark: {0}")]
    Unreachable(String),
    #[error("Postmark's answer could not be read: {0}")]
    Malformed(String),
    #[error("the server list ended early: {got} of {expected} servers")]
    Incomplete { got: usize, expected: i64 },
}

impl From<QueryError<TransportError>> for PostmarkError {
    fn from(error: QueryError<TransportError>) -> Self {
        match error {
            QueryError::Api {
                status,
                error_code,
                message,
                ..
            } => match status {
                StatusCode::UNAUTHORIZED => PostmarkError::Unauthorized,
                StatusCode::UNPROCESSABLE_ENTITY => PostmarkError::Rejected {
                    code: error_code.unwrap_or(0),
                    message: message.unwrap_or_default(),
                },
                StatusCode::TOO_MANY_REQUESTS => PostmarkError::RateLimited,
                s if s.is_server_error() => PostmarkError::ServerError(s.as_u16()),
                s => PostmarkError::UnexpectedStatus(s.as_u16()),
            },
            QueryError::Client { source } => PostmarkError::Unreachable(source.to_string()),
            QueryError::Json { source } => PostmarkError::Malformed(source.to_string()),
            QueryError::Body { source } => PostmarkError::Malformed(source.to_string()),
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct PostmarkConfig {
    pub api_url: Url,
    pub account_token: SecretString,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

/// The Account API plus per-server Server API calls.
#[derive(Debug, Clone)]
pub struct PostmarkClient {
    account: Transport,
    page_size: i64,
}

impl PostmarkClient {
    pub fn new(config: &PostmarkConfig) -> anyhow::Result<Self> {
        Ok(Self {
            account: Transport::new(
                config.api_url.clone(),
                Token::Account(config.account_token.clone()),
                config.connect_timeout,
                config.request_timeout,
                config.retry,
            )?,
            page_size: MAX_PAGE,
        })
    }

    /// Smaller pages (tests exercise paging without thousands of servers).
    pub fn with_page_size(mut self, page_size: i64) -> Self {
        self.page_size = page_size.clamp(1, MAX_PAGE);
        self
    }

    /// One page of servers.
    pub async fn servers_page(&self, offset: i64) -> Result<ServersPage, PostmarkError> {
        Ok(ListServers {
            count: self.page_size,
            offset,
        }
        .execute(&self.account)
        .await?)
    }

    /// Every server, page by page. The list counts only when it is whole: as many distinct
    /// servers as `TotalCount`, which must not change between pages (servers created or
    /// deleted meanwhile shift the offsets). A partial list is never taken for the account.
    pub async fn all_servers(&self) -> Result<Vec<ServerInfo>, PostmarkError> {
        let mut servers: std::collections::BTreeMap<i64, ServerInfo> = Default::default();
        let mut offset = 0;
        let mut expected = None;
        loop {
            let page = self.servers_page(offset).await?;
            let total = *expected.get_or_insert(page.total_count);
            let got = page.servers.len() as i64;
            offset += got;
            for server in page.servers {
                servers.insert(server.id, server);
            }
            let incomplete = || PostmarkError::Incomplete {
                got: servers.len(),
                expected: total,
            };
            if page.total_count != total {
                return Err(PostmarkError::Incomplete {
                    got: servers.len(),
                    expected: page.total_count,
                });
            }
            if offset >= total {
                return if servers.len() as i64 == total {
                    Ok(servers.into_values().collect())
                } else {
                    Err(incomplete())
                };
            }
            if got < self.page_size {
                return Err(incomplete());
            }
        }
    }

    /// Emails sent by one server between two dates (`YYYY-MM-DD`), with that server's token.
    pub async fn outbound_sent(
        &self,
        server_token: SecretString,
        from: &str,
        to: &str,
    ) -> Result<i64, PostmarkError> {
        let transport = self.account.with_token(Token::Server(server_token));
        let overview = OutboundStats {
            from: from.to_string(),
            to: to.to_string(),
        }
        .execute(&transport)
        .await?;
        Ok(overview.sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_carries_an_api_token() {
        let mut server = ServerInfo::sample(7, "Billing", &["0123-secret-token-4567"]);
        server.bounce_hook_url = Some("https://hooks:hunter2@hooks.example.com/b".into());
        let shown = format!("{server:?} {server:#?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("https://***@hooks.example.com/b"), "{shown}");
        assert!(shown.contains("[1 redacted]"), "{shown}");
        assert!(shown.contains("Billing"));
    }
}
