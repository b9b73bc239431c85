//! Revocations: each revoke decision of a closed campaign becomes a durable job that a
//! background worker carries out against Postmark (servers) or the users gateway (users and
//! permissions), with every attempt recorded and audited.
//!
//! A row of `revocations` moves `to_revoke` (written at close) → `excluded` or `pending`
//! (an admin applied the campaign's revocations, or the campaign applies them at close) →
//! `running` (a worker holds it under a lease) → `done` | `failed` | `manual`; an admin can
//! cancel a job that is not running and retry a failed or manual one.
//!
//! A `done` job is then proved by the next successful sync ([`Verification`]): effective when
//! the inventory no longer shows the access, not effective when it still does; access that
//! shows again after being effective is drift.
//!
//! This file holds the types the pages share with the browser and the rule that picks what a
//! job does; `db` (the admin's operations), `queue` (the worker's), `execute` (the calls),
//! `verify` (what a sync proves) and `worker` are server-only.

pub mod api;
pub mod badges;
pub mod page;
pub mod panels;
pub mod status_api;
pub mod views;

#[cfg(feature = "ssr")]
pub mod acknowledge;
#[cfg(feature = "ssr")]
pub mod confirm;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod execute;
#[cfg(feature = "ssr")]
pub mod queue;
#[cfg(feature = "ssr")]
pub mod restore;
#[cfg(feature = "ssr")]
pub mod verify;
#[cfg(feature = "ssr")]
pub mod worker;

use serde::{Deserialize, Serialize};

use crate::review_items::ItemKind;

/// Where a revocation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Written at close (or when a flagged item was settled); not applied yet.
    ToRevoke,
    /// An admin left it out when applying, with a reason.
    Excluded,
    /// A job waiting for its first or next attempt.
    Pending,
    /// A worker holds it (or held it and stopped: its lease then runs out and it is retried).
    Running,
    Done,
    /// Given up: Postmark refused it for good, or every attempt failed.
    Failed,
    /// No API can do it (Account Owner, or no users gateway): a person must.
    Manual,
    /// An admin cancelled it, with a reason.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::ToRevoke,
        Status::Excluded,
        Status::Pending,
        Status::Running,
        Status::Done,
        Status::Failed,
        Status::Manual,
        Status::Cancelled,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Status::ToRevoke => "to_revoke",
            Status::Excluded => "excluded",
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Manual => "manual",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::ToRevoke => "To revoke",
            Status::Excluded => "Excluded",
            Status::Pending => "Pending",
            Status::Running => "Running",
            Status::Done => "Done",
            Status::Failed => "Failed",
            Status::Manual => "Manual",
            Status::Cancelled => "Cancelled",
        }
    }
}

/// What a job does to take the access away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// `PUT /servers/{id}`: SMTP API off, webhook URLs cleared, name prefixed; the previous
    /// values are kept so the server can be restored. Postmark's API cannot disable the
    /// server's API tokens.
    Quarantine,
    /// `DELETE /servers/{id}`, only when an admin chose it for that server.
    Delete,
    /// Users gateway: the user's permission on the server set to none.
    RemovePermission,
    /// Users gateway: the user removed from the account (they held only the basic role).
    RemoveUser,
    /// Users gateway: an elevated account role lowered to [`BASIC_ROLE`].
    Demote,
    /// No API path: a Postmark admin does it by hand.
    Manual,
    /// Provisioning (a group mapping): users gateway `POST users`, a new login with a role.
    Invite,
    /// Provisioning: users gateway, the user's permission on the server set to `access`.
    Grant,
    /// Provisioning: users gateway, the user's account role set to `access`.
    SetRole,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Quarantine,
        Action::Delete,
        Action::RemovePermission,
        Action::RemoveUser,
        Action::Demote,
        Action::Manual,
        Action::Invite,
        Action::Grant,
        Action::SetRole,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Action::Quarantine => "quarantine",
            Action::Delete => "delete",
            Action::RemovePermission => "remove_permission",
            Action::RemoveUser => "remove_user",
            Action::Demote => "demote",
            Action::Manual => "manual",
            Action::Invite => "invite",
            Action::Grant => "grant",
            Action::SetRole => "set_role",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Quarantine => "Quarantine server",
            Action::Delete => "Delete server",
            Action::RemovePermission => "Remove server permission",
            Action::RemoveUser => "Remove user from the account",
            Action::Demote => "Demote to the basic role",
            Action::Manual => "Manual task",
            Action::Invite => "Invite to the account",
            Action::Grant => "Grant server permission",
            Action::SetRole => "Set account role",
        }
    }

    /// Whether the job gives access (a group mapping's provisioning) rather than takes it.
    pub fn grants(self) -> bool {
        matches!(self, Action::Invite | Action::Grant | Action::SetRole)
    }

    /// The action for revoking `access` of `kind`; `delete` says an admin chose to delete this
    /// server rather than quarantine it.
    ///
    /// Account roles: revoking the basic membership role (see [`is_basic_role`]) means the
    /// person should not be in the account at all, so they are removed; revoking an elevated
    /// role (Account Admin, Technical, Billing, …) lowers it to the basic role and keeps their
    /// server permissions, which are reviewed as items of their own. The Account Owner is never
    /// changed through an API.
    pub fn for_item(kind: ItemKind, access: &str, delete: bool) -> Action {
        match kind {
            ItemKind::Server if delete => Action::Delete,
            ItemKind::Server => Action::Quarantine,
            ItemKind::ServerPermission => Action::RemovePermission,
            ItemKind::AccountRole if is_account_owner(access) => Action::Manual,
            ItemKind::AccountRole if is_basic_role(access) => Action::RemoveUser,
            ItemKind::AccountRole => Action::Demote,
        }
    }

    /// Whether the job needs the users gateway (otherwise Postmark's Account API, or nothing).
    pub fn uses_gateway(self) -> bool {
        matches!(
            self,
            Action::RemovePermission | Action::RemoveUser | Action::Demote
        ) || self.grants()
    }
}

/// The role a demoted user keeps: Postmark's plain membership, with access only to the
/// servers they hold a permission on. Sent to the gateway's role call; a gateway maps it to
/// its account's own name for that role.
pub const BASIC_ROLE: &str = "Server Access";

/// Names Postmark accounts use for the basic membership role: "Server Access" (what the
/// Users page shows for someone without an account role), "Teammate" (newer accounts) and
/// "Member" (some gateways). Compared without regard to case or surrounding spaces.
pub const BASIC_ROLES: [&str; 3] = [BASIC_ROLE, "Teammate", "Member"];

/// The one role never changed through an API.
pub const ACCOUNT_OWNER: &str = "Account Owner";

/// Why an Account Owner's job is a manual task.
pub const OWNER_IS_MANUAL: &str = "Account Owner is never changed through an API";

pub fn is_basic_role(role: &str) -> bool {
    BASIC_ROLES
        .iter()
        .any(|b| b.eq_ignore_ascii_case(role.trim()))
}

pub fn is_account_owner(role: &str) -> bool {
    ACCOUNT_OWNER.eq_ignore_ascii_case(role.trim())
}

/// When a campaign's revocations run (`campaigns.revocation_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Mode {
    /// After an admin reviews the to-revoke list and applies it (the default).
    #[default]
    Apply,
    /// As soon as the campaign closes.
    AtClose,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Apply, Mode::AtClose];

    pub fn slug(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::AtClose => "at_close",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Apply => "After an admin applies them",
            Mode::AtClose => "Automatically at close",
        }
    }
}

/// What revoking an item of `kind` (holding `access`) will do, and when, in one line for the
/// reviewer: the action [`Action::for_item`] picks, after the campaign closes (`mode`).
pub fn revoke_means(kind: ItemKind, access: &str, mode: Mode) -> String {
    let when = match mode {
        Mode::AtClose => "when the campaign closes",
        Mode::Apply => "once an admin applies the campaign's revocations after it closes",
    };
    match Action::for_item(kind, access, false) {
        Action::Quarantine => format!(
            "Revoke quarantines this server {when}: SMTP off and every webhook cleared (its API \
             tokens keep working until an admin deletes it)."
        ),
        Action::RemovePermission => format!(
            "Revoke removes this server permission {when}, through the users gateway or a \
             Postmark admin."
        ),
        Action::RemoveUser => {
            format!("Revoke removes this person from the Postmark account {when}.")
        }
        Action::Demote => format!(
            "Revoke lowers this role to {BASIC_ROLE} {when}; the person's server permissions are \
             reviewed as items of their own."
        ),
        _ => format!(
            "Revoke becomes a task for a Postmark admin {when}: the Account Owner is never changed \
             through an API."
        ),
    }
}

/// What the first successful sync after a job was done says about it
/// (`revocations.verification`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Verification {
    /// No sync has decided it yet: the job is not done, or no sync ran since.
    #[default]
    Unverified,
    /// The sync no longer showed the access.
    Effective,
    /// The sync still showed the access: the job said done but Postmark did not change.
    NotEffective,
}

impl Verification {
    pub const ALL: [Verification; 3] = [
        Verification::Unverified,
        Verification::Effective,
        Verification::NotEffective,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Verification::Unverified => "unverified",
            Verification::Effective => "effective",
            Verification::NotEffective => "not_effective",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Verification::Unverified => "Not verified yet",
            Verification::Effective => "Effective",
            Verification::NotEffective => "Not effective",
        }
    }
}

/// A revocation as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationView {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub item_id: i64,
    pub kind: ItemKind,
    pub user_email: Option<String>,
    pub server_id: Option<i64>,
    /// The server's name when the campaign launched.
    pub server_name: Option<String>,
    pub access: String,
    pub status: Status,
    pub action: Option<Action>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub applied_at: Option<String>,
    pub finished_at: Option<String>,
    pub excluded_reason: Option<String>,
    /// Why an admin accepted a failed revocation as it is.
    pub acknowledged_reason: Option<String>,
    /// Its campaign was signed off: the row can no longer change.
    pub campaign_signed_off: bool,
    pub verification: Verification,
    /// The sync that decided [`Self::verification`].
    pub verified_sync_id: Option<i64>,
    /// When a sync saw the access back after it was effective, and which sync.
    pub drift_at: Option<String>,
    pub drift_sync_id: Option<i64>,
    /// The fulfilment task that asks a person to do it (manual revocations).
    pub task_id: Option<i64>,
}

/// One attempt of a job, newest last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub at: String,
    /// The call that decided the outcome, e.g. `PUT /servers/10001`.
    pub operation: String,
    pub http_status: Option<i64>,
    /// Postmark's `ErrorCode`.
    pub error_code: Option<i64>,
    pub message: Option<String>,
    /// `done`, `retry`, `failed` or `paused`.
    pub outcome: String,
}

/// How many revocations of a campaign are in each status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub to_revoke: i64,
    pub excluded: i64,
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub manual: i64,
    pub cancelled: i64,
    /// Done and proved by a sync.
    pub effective: i64,
    /// Done, but a sync still showed the access.
    pub not_effective: i64,
    /// Effective once, then a later sync showed the access again.
    pub drift: i64,
    /// Failed ones an admin accepted as they are (counted in `failed` too).
    pub acknowledged: i64,
}

impl Counts {
    /// Adds `n` to the count of `status`.
    pub fn add(&mut self, status: Status, n: i64) {
        let slot = match status {
            Status::ToRevoke => &mut self.to_revoke,
            Status::Excluded => &mut self.excluded,
            Status::Pending => &mut self.pending,
            Status::Running => &mut self.running,
            Status::Done => &mut self.done,
            Status::Failed => &mut self.failed,
            Status::Manual => &mut self.manual,
            Status::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_says_what_happens_and_when() {
        let server = revoke_means(ItemKind::Server, "", Mode::AtClose);
        assert!(server.starts_with("Revoke quarantines this server when the campaign closes"));
        let basic = revoke_means(ItemKind::AccountRole, "Server Access", Mode::Apply);
        assert!(basic.contains("removes this person") && basic.contains("once an admin applies"));
        assert!(
            revoke_means(ItemKind::AccountRole, "Account Admin", Mode::Apply)
                .contains("lowers this role to Server Access")
        );
        assert!(
            revoke_means(ItemKind::AccountRole, "Account Owner", Mode::Apply)
                .contains("never changed through an API")
        );
        assert!(
            revoke_means(ItemKind::ServerPermission, "Server Admin", Mode::Apply)
                .contains("removes this server permission")
        );
    }

    #[test]
    fn the_action_follows_the_kind_and_the_role() {
        use ItemKind::*;
        assert_eq!(
            Action::for_item(Server, "server", false),
            Action::Quarantine
        );
        assert_eq!(Action::for_item(Server, "server", true), Action::Delete);
        assert_eq!(
            Action::for_item(ServerPermission, "Server Admin", true),
            Action::RemovePermission
        );
        for basic in ["Server Access", "teammate", " Member "] {
            assert_eq!(
                Action::for_item(AccountRole, basic, false),
                Action::RemoveUser
            );
        }
        for elevated in ["Account Admin", "Technical", "Billing"] {
            assert_eq!(
                Action::for_item(AccountRole, elevated, false),
                Action::Demote
            );
        }
        assert_eq!(
            Action::for_item(AccountRole, "account owner", false),
            Action::Manual
        );
    }

    #[test]
    fn slugs_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_slug(s.slug()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::from_slug(a.slug()), Some(a));
        }
        for m in Mode::ALL {
            assert_eq!(Mode::from_slug(m.slug()), Some(m));
        }
        for v in Verification::ALL {
            assert_eq!(Verification::from_slug(v.slug()), Some(v));
        }
        assert_eq!(Status::from_slug("gone"), None);
    }
}

/// An item an admin keeps out of this apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub id: i64,
    pub reason: String,
}

/// A server to delete instead of quarantining, with its name typed as confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: i64,
    pub confirm_name: String,
}
