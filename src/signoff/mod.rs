//! Campaign sign-off: an admin's signed statement that a closed campaign's decisions were
//! carried out as recorded, after which the campaign never changes.
//!
//! What is signed (README, "Signing off a campaign"):
//! * `report.csv`: the decisions export ([`crate::export::decisions`]) as it stood at sign-off,
//!   stored byte for byte and served as the campaign's decisions file from then on;
//! * `signoff.json`: the manifest ([`manifest`]): the campaign's settings, the inventory
//!   snapshot it was launched from with the SHA-256 of its population file, the SHA-256 of
//!   `report.csv`, the outcome counts, the audit head before the sign-off, the signer, time and
//!   statement.
//!
//! Both are signed with the app's Ed25519 key (pure Ed25519, as `openssl pkeyutl -rawin`
//! checks it), a checkpoint of the audit head is signed in the same transaction, and the
//! [`bundle`] puts everything an auditor needs in one zip with `VERIFY.txt`.
//!
//! * [`db`]: the readiness rules, the sign-off transaction and the stored record;
//! * [`api`], [`panel`]: the server functions and the panel on the campaign page;
//! * [`routes`]: `report.csv.sig`, `signoff.json` and the evidence bundle downloads.

pub mod api;
#[cfg(feature = "ssr")]
pub mod bundle;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod manifest;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod routes;

use serde::{Deserialize, Serialize};

/// The longest statement accepted, in characters.
pub const STATEMENT_MAX: usize = 2000;

/// Whether a campaign can be signed off, and its sign-off once it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignoffState {
    pub campaign_id: i64,
    /// What still stands in the way; empty when it can be signed off.
    pub blockers: Vec<Blocker>,
    pub signed: Option<SignoffView>,
}

/// One thing in the way of a sign-off: a sentence, and where to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub text: String,
    /// `(label, href)` of the place to act.
    pub action: Option<(String, String)>,
}

impl Blocker {
    pub fn new(text: String, label: &str, href: String) -> Self {
        Self {
            text,
            action: Some((label.to_string(), href)),
        }
    }
}

/// A stored sign-off, with its signatures checked when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignoffView {
    pub signed_by: String,
    pub signed_at: String,
    pub statement: String,
    pub report_sha256: String,
    /// SHA-256 of the signing key's raw public key, as the Audit page shows it.
    pub key_fingerprint: String,
    pub checkpoint_id: i64,
    pub check: SignatureCheck,
}

/// The signatures re-checked against the stored bytes and the stored public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignatureCheck {
    Verified,
    /// What did not hold (a changed report, a signature that does not verify).
    Broken(String),
}

/// The message every refused write to a signed-off campaign gets (the application's checks
/// and the database triggers' refusals both end up here).
pub const FROZEN: &str = "This campaign has been signed off: its decisions, revocations and \
                          settings can no longer change.";

/// The start of the database triggers' messages (migration 0014).
pub const TRIGGER_MARKER: &str = "campaign signed off";
