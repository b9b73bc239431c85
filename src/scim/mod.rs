//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): identity providers push people and groups to
//! `/scim/v2`, each with bearer tokens of its own and its own namespace of resources.
//!
//! * [`tokens`]: provider tokens (random, stored as SHA-256), created and revoked by admins;
//!   [`api`] and [`page`] are the admin page for them.
//! * [`routes`]: the HTTP endpoint. Outside the session and CSRF layers (bearer calls carry no
//!   cookies), with its own authentication, rate limit and body limit.
//! * [`schema`], [`resource`], [`patch`] (and `path`), [`filter`], `filter_sql`: the
//!   protocol, with no database; `users` and `groups` store resources and write their audit
//!   events; `handlers` turn requests into those calls.

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
mod discovery;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
mod extract;
#[cfg(feature = "ssr")]
pub mod filter;
#[cfg(feature = "ssr")]
mod filter_sql;
#[cfg(feature = "ssr")]
mod groups;
#[cfg(feature = "ssr")]
mod handlers;
#[cfg(feature = "ssr")]
mod limits;
#[cfg(feature = "ssr")]
pub mod patch;
#[cfg(feature = "ssr")]
mod path;
#[cfg(feature = "ssr")]
pub mod resource;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod schema;
#[cfg(feature = "ssr")]
pub mod tokens;
#[cfg(feature = "ssr")]
mod users;

use serde::{Deserialize, Serialize};

/// Path of the SCIM endpoint below the public URL.
pub const BASE_PATH: &str = "/scim/v2";

/// A provider token as the admin page lists it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub provider: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// The tokens page: where providers send their requests, and every token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensPage {
    pub base_url: String,
    pub tokens: Vec<TokenView>,
}

/// A token just created: the only time its value leaves the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: i64,
    pub provider: String,
    pub prefix: String,
    pub token: String,
    pub base_url: String,
}

/// Without the token, so a stray `{:?}` cannot log it.
impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("prefix", &self.prefix)
            .field("token", &"[redacted]")
            .finish()
    }
}
