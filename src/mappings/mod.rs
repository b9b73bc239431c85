//! Group mappings: an identity provider's group grants a Postmark account role and/or one
//! permission on a set of servers. Joining a mapped group (or a new mapping) becomes
//! provisioning jobs, leaving one (or a mapping's change) becomes revocation jobs: rows of
//! `revocations` with origin `mapping`, carried out, retried, audited and verified by the
//! revocation worker and the next users sync.
//!
//! This file holds what the page shares with the browser; `entitle` (what the mappings give
//! each person and the jobs a change calls for) and `db` are server-only.

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod entitle;

use serde::{Deserialize, Serialize};

/// Account roles a mapping can grant, highest first. The Account Owner is never granted.
pub const ROLES: [&str; 4] = ["Account Admin", "Technical", "Billing", "Server Access"];

/// Server permissions a mapping can grant, highest first.
pub const PERMISSIONS: [&str; 2] = ["Server Admin", "Server Viewer"];

/// How much a role gives (higher is more); unknown roles count as the basic one.
pub fn role_rank(role: &str) -> usize {
    let role = role.trim();
    if crate::revocations::is_account_owner(role) {
        return ROLES.len() + 1;
    }
    ROLES
        .iter()
        .position(|r| r.eq_ignore_ascii_case(role))
        .map_or(0, |i| ROLES.len() - i)
}

/// How much a server permission gives (higher is more).
pub fn permission_rank(permission: &str) -> usize {
    PERMISSIONS
        .iter()
        .position(|p| p.eq_ignore_ascii_case(permission.trim()))
        .map_or(0, |i| PERMISSIONS.len() - i)
}

/// A mapping as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingView {
    pub id: i64,
    pub group: String,
    pub role: Option<String>,
    pub permission: Option<String>,
    /// `(server id, name)`.
    pub servers: Vec<(i64, String)>,
    /// Active people in the group, at any provider.
    pub members: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// A mapping as an admin writes it; `id` is `None` for a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingForm {
    pub id: Option<i64>,
    pub group: String,
    /// Empty: no role.
    pub role: String,
    /// Empty: no server permission.
    pub permission: String,
    pub servers: Vec<i64>,
}

/// One line of a change's effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectLine {
    pub email: String,
    pub person: String,
    /// What happens, in words ("Invite as Server Access", "Server Admin on payments (10001)").
    pub what: String,
}

/// Who gains and who loses what, before a change is saved (or as it was saved).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    pub gains: Vec<EffectLine>,
    pub losses: Vec<EffectLine>,
    /// No provider has pushed a group of the mapping's name (yet): it gives nobody anything.
    #[serde(default)]
    pub unknown_group: bool,
}

/// A provisioning or removal job a mapping started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingJob {
    pub id: i64,
    pub email: String,
    pub what: String,
    pub reason: String,
    pub created_at: String,
    /// Status label ("Pending", "Done", …) and, once a sync decided, the verification.
    pub status: String,
    pub verification: String,
    pub last_error: Option<String>,
}

/// Everything the Group mappings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub mappings: Vec<MappingView>,
    /// Group names the identity providers pushed, for the form's suggestions.
    pub groups: Vec<String>,
    /// `(server id, name)` of the inventory.
    pub servers: Vec<(i64, String)>,
    pub jobs: Vec<MappingJob>,
    /// Whether jobs go through the users gateway (otherwise manual fulfilment tasks).
    pub has_gateway: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_roles_and_permissions() {
        assert!(role_rank("Account Owner") > role_rank("account admin"));
        assert!(role_rank("Account Admin") > role_rank("Billing"));
        assert!(role_rank("Billing") > role_rank("Server Access"));
        assert_eq!(role_rank("Teammate"), 0);
        assert!(permission_rank("server admin") > permission_rank("Server Viewer"));
        assert_eq!(permission_rank("Other"), 0);
    }
}
