//! Review items: one access (an account role, a server permission, a server) in one
//! campaign, with its reviewer and decision. Campaigns create and close them, reviewers decide
//! them; the model, its reader, the campaign lock and every writer live here so both features
//! share one definition of the table.

#[cfg(feature = "ssr")]
pub mod db;

use serde::{Deserialize, Serialize};

/// What a review item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ItemKind {
    /// A user holds an account role (Account Owner, Account Admin, Server Access, …).
    AccountRole,
    /// A user holds Server Admin or Server Viewer on one server.
    ServerPermission,
    /// A server itself: is it still owned and needed (tokens, SMTP, webhooks)?
    Server,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [
        ItemKind::AccountRole,
        ItemKind::ServerPermission,
        ItemKind::Server,
    ];

    /// Name in the database and in query parameters.
    pub fn slug(self) -> &'static str {
        match self {
            ItemKind::AccountRole => "account_role",
            ItemKind::ServerPermission => "server_permission",
            ItemKind::Server => "server",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemKind::AccountRole => "Account roles",
            ItemKind::ServerPermission => "Server permissions",
            ItemKind::Server => "Servers",
        }
    }
}

/// A decision on a review item. Read from requests by its variant name or its database name
/// (`approve`), so forms and JSON clients both name it plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    #[serde(alias = "approve")]
    Approve,
    #[serde(alias = "revoke")]
    Revoke,
    /// Undecided at close, left for an admin (default outcome "flag").
    #[serde(alias = "flag")]
    Flag,
}

impl Decision {
    pub fn slug(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Revoke => "revoke",
            Decision::Flag => "flag",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        [Decision::Approve, Decision::Revoke, Decision::Flag]
            .into_iter()
            .find(|d| d.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Approve => "Approved",
            Decision::Revoke => "To revoke",
            Decision::Flag => "Flagged for admin",
        }
    }
}

/// An access the campaign's scope covers, as the inventory holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: ItemKind,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub server_id: Option<i64>,
    pub server_name: Option<String>,
    pub access: String,
    pub privileged: bool,
    /// Flag slugs.
    pub flags: Vec<&'static str>,
}

/// How an item reached its reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Manager,
    Owner,
    Fixed,
    Fallback,
    /// The first choice was the person whose access it is.
    SelfReview,
    /// Handed on by a reviewer or an admin after launch.
    Reassigned,
}

impl Via {
    pub const ALL: [Via; 6] = [
        Via::Manager,
        Via::Owner,
        Via::Fixed,
        Via::Fallback,
        Via::SelfReview,
        Via::Reassigned,
    ];

    /// Name in the database.
    pub fn slug(self) -> &'static str {
        match self {
            Via::Manager => "manager",
            Via::Owner => "owner",
            Via::Fixed => "fixed",
            Via::Fallback => "fallback",
            Via::SelfReview => "self_review",
            Via::Reassigned => "reassigned",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.slug() == slug)
    }
}

/// Who settled an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedVia {
    /// The assigned reviewer.
    Reviewer,
    /// An admin settling an item flagged at close.
    Admin,
    /// The campaign's default outcome, applied at close.
    Default,
}

impl DecidedVia {
    pub const ALL: [DecidedVia; 3] = [DecidedVia::Reviewer, DecidedVia::Admin, DecidedVia::Default];

    /// Name in the database.
    pub fn slug(self) -> &'static str {
        match self {
            DecidedVia::Reviewer => "reviewer",
            DecidedVia::Admin => "admin",
            DecidedVia::Default => "default",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.slug() == slug)
    }
}

/// One row of the item lists on the dashboard and in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub kind: ItemKind,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub server_id: Option<i64>,
    pub server_name: Option<String>,
    pub access: String,
    pub privileged: bool,
    /// Risk flags from the inventory, as labels.
    pub flags: Vec<String>,
    pub reviewer: String,
    pub assigned_via: Via,
    pub decision: Option<Decision>,
    pub justification: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decided_via: Option<DecidedVia>,
    pub version: i64,
}

/// What the queue recommends for an orphaned account's access, and why.
pub const ORPHAN_RECOMMENDATION: &str =
    "Recommended: revoke — the person left, or is unknown at the identity provider";

/// A decision the inventory's signals suggest, with the reason shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    pub decision: Decision,
    /// The whole sentence, e.g. "Recommended: revoke — no sends from this server in 30 days".
    pub text: &'static str,
}

impl Recommendation {
    /// The justification recorded when a reviewer accepts it.
    pub fn justification(self) -> String {
        format!("Accepted the recommendation. {}", self.text)
    }
}

impl ItemView {
    /// Whether the item carries a flag, stored as its slug or shown as its label.
    fn has_flag(&self, slug: &str, label: &str) -> bool {
        self.flags.iter().any(|f| f == slug || f == label)
    }

    /// What the inventory's signals at launch suggest, strongest reason first: a person who
    /// left, an invitation nobody accepted, a server that sends nothing. Nothing is
    /// recommended without a signal: "keep" is the reviewer's call.
    pub fn recommendation(&self) -> Option<Recommendation> {
        use crate::inventory::{Flag, UserFlag};
        let user = |f: UserFlag| self.has_flag(f.slug(), f.label());
        let server = |f: Flag| self.has_flag(f.slug(), f.label());
        let revoke = |text| {
            Some(Recommendation {
                decision: Decision::Revoke,
                text,
            })
        };
        let about_a_person = self.kind != ItemKind::Server;
        if about_a_person && user(UserFlag::Orphaned) {
            return revoke(ORPHAN_RECOMMENDATION);
        }
        if about_a_person && user(UserFlag::StalePendingInvitation) {
            return revoke(
                "Recommended: revoke — the invitation has been pending for more than 30 days",
            );
        }
        if self.kind == ItemKind::ServerPermission && server(Flag::NoRecentSends) {
            return revoke("Recommended: revoke — no sends from this server in 30 days");
        }
        if self.kind == ItemKind::Server && server(Flag::NoRecentSends) {
            return revoke(
                "Recommended: revoke — no sends from this server in 30 days: it may no longer \
                 be needed",
            );
        }
        None
    }

    /// Who or what the item is about, for lists.
    pub fn subject(&self) -> String {
        match (&self.user_name, &self.user_email, &self.server_name) {
            (Some(name), Some(email), _) => format!("{name} <{email}>"),
            (None, Some(email), _) => email.clone(),
            (_, None, Some(server)) => server.clone(),
            _ => format!("item {}", self.id),
        }
    }

    /// The access being reviewed, for lists.
    pub fn what(&self) -> String {
        match (self.kind, &self.server_name, self.server_id) {
            (ItemKind::AccountRole, _, _) => format!("Account role: {}", self.access),
            (ItemKind::ServerPermission, Some(server), Some(id)) => {
                format!("{} on {server} ({id})", self.access)
            }
            (ItemKind::Server, Some(server), Some(id)) => format!("Server {server} ({id})"),
            _ => self.access.clone(),
        }
    }
}

/// A label for a stored flag slug (servers' and users' flags share one column).
pub fn flag_label(slug: &str) -> String {
    use crate::inventory::{Flag, UserFlag};
    Flag::from_slug(slug)
        .map(Flag::label)
        .or_else(|| UserFlag::from_slug(slug).map(UserFlag::label))
        .unwrap_or(slug)
        .to_string()
}
