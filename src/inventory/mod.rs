//! The inventory of the Postmark account: servers from the Account API (users and
//! permissions follow), synced into snapshots with a diff, shown with risk flags.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod sync;

use serde::{Deserialize, Serialize};

/// Rows per page of the servers list.
pub const PAGE_SIZE: usize = 50;

/// A risk signal shown as a badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flag {
    /// No outbound email in the last 30 days: is the server still needed?
    NoRecentSends,
    /// The activity request failed at the last sync.
    ActivityUnknown,
    /// A webhook posts to a host outside `PAR_WEBHOOK_HOST_ALLOWLIST`.
    UnexpectedWebhookHost,
}

impl Flag {
    pub fn label(self) -> &'static str {
        match self {
            Flag::NoRecentSends => "No sends in 30 days",
            Flag::ActivityUnknown => "Activity unknown",
            Flag::UnexpectedWebhookHost => "Webhook host not on allowlist",
        }
    }

    /// Value in the `flag` query parameter.
    pub fn slug(self) -> &'static str {
        match self {
            Flag::NoRecentSends => "no-sends",
            Flag::ActivityUnknown => "activity-unknown",
            Flag::UnexpectedWebhookHost => "webhook-host",
        }
    }

    pub const ALL: [Flag; 3] = [
        Flag::NoRecentSends,
        Flag::ActivityUnknown,
        Flag::UnexpectedWebhookHost,
    ];

    pub fn from_slug(slug: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.slug() == slug)
    }
}

/// A server row of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerView {
    pub postmark_id: i64,
    pub name: String,
    pub color: Option<String>,
    pub smtp_api_activated: bool,
    pub webhook_hosts: Vec<String>,
    pub token_count: i64,
    pub sent_30d: Option<i64>,
    pub flags: Vec<Flag>,
}

/// Search, filter, sort and page of the servers list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerQuery {
    pub search: Option<String>,
    pub flag: Option<String>,
    /// `name` (default), `id`, `sent`, `tokens`.
    pub sort: Option<String>,
    /// 1-based.
    pub page: Option<usize>,
}

/// A page of servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerList {
    pub servers: Vec<ServerView>,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub last_sync: Option<SyncView>,
    pub connected: bool,
}

/// One sync in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    pub id: i64,
    pub trigger: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub servers: Option<i64>,
    pub added: Option<i64>,
    pub removed: Option<i64>,
    pub changed: Option<i64>,
}

/// One line of a sync's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    pub kind: String,
    pub key: String,
    pub change: String,
    pub name: String,
    /// `field: before → after`, already formatted.
    pub fields: Vec<String>,
}
