//! The inventory of the Postmark account: servers from the Account API (users and
//! permissions follow), synced into snapshots with a diff, shown with risk flags.

pub mod api;
pub mod detail;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod changes;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod hook_credentials;
#[cfg(feature = "ssr")]
pub mod lists;
#[cfg(feature = "ssr")]
pub mod server_record;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(feature = "ssr")]
pub mod snapshots;
#[cfg(feature = "ssr")]
pub mod sync;
#[cfg(feature = "ssr")]
pub mod users;
#[cfg(feature = "ssr")]
pub mod users_csv;
pub mod users_page;

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

/// Declares a stored enum: its database name (`slug`), `from_slug` and `ALL`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $slug:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Name in the database.
            pub fn slug(self) -> &'static str {
                match self { $($name::$variant => $slug,)+ }
            }

            pub fn from_slug(slug: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.slug() == slug)
            }
        }
    };
}

stored_enum! {
    /// What a sync brought in.
    pub enum SyncScope {
        /// Servers, from Postmark's Account API.
        Servers => "servers",
        /// Users and permissions, from a CSV import or the users gateway.
        Users => "users",
    }
}

stored_enum! {
    /// Where a sync is.
    pub enum SyncStatus {
        Running => "running",
        Succeeded => "succeeded",
        /// Failed, or interrupted when the process stopped (the error says which).
        Failed => "failed",
    }
}

stored_enum! {
    /// What started a sync.
    pub enum Trigger {
        Schedule => "schedule",
        Manual => "manual",
        Cli => "cli",
        Demo => "demo",
        /// A CSV file uploaded on the users page.
        Import => "import",
        /// The revocation worker, right after it removed a leaver's login: the proof.
        Verification => "verification",
    }
}

/// One sync in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    pub id: i64,
    pub scope: SyncScope,
    /// What was imported (file name), if anything.
    pub source: Option<String>,
    pub trigger: Trigger,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: SyncStatus,
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

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportResult {
    /// Nothing changed; here is every problem found.
    Rejected {
        errors: Vec<crate::csv_file::RowError>,
        more: usize,
    },
    Imported {
        sync_id: i64,
        users: usize,
        added: usize,
        removed: usize,
        changed: usize,
    },
}

/// Risk signals on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserFlag {
    /// An invitation nobody accepted for more than 30 days.
    StalePendingInvitation,
    /// Account Owner or Account Admin: everything in the account.
    AccountAdmin,
    /// Permissions on many servers.
    ManyServers,
    /// No active person at a connected identity provider claims the login: they left, or
    /// nobody there knows them (see `offboarding`).
    Orphaned,
}

impl UserFlag {
    pub const ALL: [UserFlag; 4] = [
        UserFlag::StalePendingInvitation,
        UserFlag::AccountAdmin,
        UserFlag::ManyServers,
        UserFlag::Orphaned,
    ];

    /// Value in the `flag` query parameter.
    pub fn slug(self) -> &'static str {
        match self {
            UserFlag::StalePendingInvitation => "stale-invitation",
            UserFlag::AccountAdmin => "account-admin",
            UserFlag::ManyServers => "many-servers",
            UserFlag::Orphaned => "orphaned",
        }
    }

    pub fn from_slug(slug: &str) -> Option<UserFlag> {
        UserFlag::ALL.into_iter().find(|f| f.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            UserFlag::StalePendingInvitation => "Invitation pending > 30 days",
            UserFlag::AccountAdmin => "Account-wide access",
            UserFlag::ManyServers => "Access to many servers",
            UserFlag::Orphaned => "Orphaned account",
        }
    }
}

/// Servers at or above which a user is flagged.
pub const MANY_SERVERS: usize = 5;

/// A user row of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    pub invited_at: Option<String>,
    /// `server name (id): permission`.
    pub permissions: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub flags: Vec<UserFlag>,
}

/// Search, filters, sort and page of the users list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    pub search: Option<String>,
    /// A [`UserFlag`] slug.
    pub flag: Option<String>,
    /// `active` or `pending`.
    pub status: Option<String>,
    /// `email` (default), `name`, `servers` (most first).
    pub sort: Option<String>,
    pub page: Option<usize>,
}

/// A page of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserView>,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
}

/// Everything the inventory knows about one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDetail {
    pub server: ServerView,
    /// Who answers for the server, set by an admin.
    pub owner: Option<String>,
    pub server_link: Option<String>,
    /// `(setting, value)` pairs as Postmark names them.
    pub settings: Vec<(String, String)>,
    pub token_fingerprints: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// `(email, name, permission)` of every user with a permission on it.
    pub users: Vec<(String, String, String)>,
}

/// One user with the history of changes the syncs and imports recorded for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserView,
    /// `(sync id, sync time, change)`, newest first.
    pub history: Vec<(i64, String, ChangeView)>,
}
