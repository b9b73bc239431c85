//! What became of a revocation after it was done, as the pages show it beside
//! [`RevocationView`]: restored or not, and a quarantine's changes that an admin can undo.

use serde::{Deserialize, Serialize};

use super::RevocationView;

/// When and by whom a quarantined server was restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    pub at: String,
    /// The admin's email.
    pub by: String,
}

/// A revocation with what happened after it was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub revocation: RevocationView,
    /// Set once an admin restored the quarantined server: later syncs no longer judge it.
    pub restored: Option<Restored>,
}

/// One setting a quarantine changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    pub setting: String,
    /// The value kept before the quarantine, which restoring puts back.
    pub before: String,
    /// What the quarantine set.
    pub quarantined: String,
}

/// A server's quarantine that an admin can restore or turn into a deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineView {
    pub revocation_id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    /// When the worker quarantined it.
    pub quarantined_at: Option<String>,
    /// The server's own name (before the prefix): typed to confirm a deletion.
    pub name: String,
    pub changes: Vec<SettingChange>,
    /// The campaign was signed off: restoring is still possible, a deletion job is not.
    pub campaign_signed_off: bool,
}

/// The revocations concerning one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRevocationList {
    pub rows: Vec<Fulfilment>,
    pub quarantine: Option<QuarantineView>,
}
