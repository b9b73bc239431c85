//! Offboarding: Postmark access taken away without waiting for a campaign.
//!
//! * A person an identity provider deactivates or deletes through SCIM is a *leaver*: each
//!   Postmark login that is theirs (matched by email, without regard to case) and that no
//!   active person at any provider also claims becomes one revocation job (origin
//!   `offboarding`), at once, in the transaction that records the change. A login that shows
//!   up later for someone who already left is caught by the next users sync.
//! * An admin's **emergency removal** of one login does the same, with a reason (origin
//!   `emergency`).
//!
//! Either job removes the user from the account through the users gateway (which takes every
//! server permission with them), or becomes a manual fulfilment task where no API can (no
//! gateway; the Account Owner). The revocation worker carries it out with its usual retries
//! and audit events, and the next users sync proves it ("effective"). A person the provider
//! reactivates before their job ran has it cancelled.
//!
//! `identity` says where each Postmark login stands with the providers (active, left, or
//! unknown: an *orphaned account*); `db` writes the jobs and reads the Offboarding page.

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod identity;
#[cfg(feature = "ssr")]
pub mod read;

use serde::{Deserialize, Serialize};

use crate::revocations::{Status, Verification};

/// Why a revocation exists, as `revocations.origin` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Origin {
    /// A reviewer's (or the default's, or an admin's) decision in a campaign.
    Campaign,
    /// The identity provider deactivated or deleted the person.
    Offboarding,
    /// An admin removed all of one person's access now.
    Emergency,
}

impl Origin {
    pub const ALL: [Origin; 3] = [Origin::Campaign, Origin::Offboarding, Origin::Emergency];

    pub fn slug(self) -> &'static str {
        match self {
            Origin::Campaign => "campaign",
            Origin::Offboarding => "offboarding",
            Origin::Emergency => "emergency",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Origin::Campaign => "Campaign",
            Origin::Offboarding => "Left at the identity provider",
            Origin::Emergency => "Emergency removal",
        }
    }
}

/// Where a Postmark login stands with the identity providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    /// No provider has pushed anyone yet: nothing to compare with.
    NoProvider,
    /// An active person at `provider` claims this login.
    Active { provider: String, person: String },
    /// Every person claiming it was deactivated (or deleted) at their provider.
    Left {
        provider: String,
        person: String,
        since: String,
        deleted: bool,
    },
    /// No person at any provider claims it: an orphaned account.
    Unknown,
}

impl Standing {
    /// An orphaned account: its person left, or nobody at the providers knows it.
    pub fn is_orphaned(&self) -> bool {
        matches!(self, Standing::Left { .. } | Standing::Unknown)
    }

    /// One line for the users pages.
    pub fn describe(&self) -> String {
        match self {
            Standing::NoProvider => "No identity provider is connected.".to_string(),
            Standing::Active { provider, person } => format!("{person}, active at {provider}."),
            Standing::Left {
                provider,
                person,
                since,
                deleted,
            } => format!(
                "{person}, {} at {provider} on {}.",
                if *deleted { "deleted" } else { "deactivated" },
                since.get(..10).unwrap_or(since)
            ),
            Standing::Unknown => "Not known to any connected identity provider.".to_string(),
        }
    }
}

/// How far one removal has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Progress {
    /// Waiting for the worker, or being carried out.
    Running,
    /// The call was accepted; the next users sync will prove it.
    Removed,
    /// A sync no longer shows the login: done and proved.
    Verified,
    /// A person must do it (a fulfilment task).
    NeedsPerson,
    /// Given up, or a sync still shows the login: an admin acts.
    Failed,
    /// Cancelled (the person came back before it ran, or an admin cancelled it).
    Cancelled,
}

impl Progress {
    pub fn of(status: Status, verification: Verification) -> Self {
        match (status, verification) {
            (Status::Done, Verification::Effective) => Progress::Verified,
            (Status::Done, Verification::NotEffective) => Progress::Failed,
            (Status::Done, Verification::Unverified) => Progress::Removed,
            (Status::Manual, _) => Progress::NeedsPerson,
            (Status::Failed, _) => Progress::Failed,
            (Status::Cancelled | Status::Excluded, _) => Progress::Cancelled,
            (Status::ToRevoke | Status::Pending | Status::Running, _) => Progress::Running,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Progress::Running => "Removing",
            Progress::Removed => "Removed, awaiting the next sync",
            Progress::Verified => "Removed and verified",
            Progress::NeedsPerson => "Needs a person",
            Progress::Failed => "Failed",
            Progress::Cancelled => "Cancelled",
        }
    }

    /// Finished, one way or the other: no deadline applies any more.
    pub fn is_settled(self) -> bool {
        matches!(self, Progress::Verified | Progress::Cancelled)
    }
}

/// One login being (or having been) removed outside a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The revocation job.
    pub id: i64,
    pub email: String,
    /// The user's name in the inventory, or the provider's name for the person.
    pub name: Option<String>,
    /// The inventory still lists the login (its page exists).
    pub in_inventory: bool,
    pub origin: Origin,
    /// Who or what started it: the provider's name, or the admin's email.
    pub started_by: String,
    pub reason: String,
    /// When the person was deactivated (offboarding) or the admin asked (emergency).
    pub since: String,
    /// Whole minutes from `since` until now, or until it was verified.
    pub minutes: i64,
    pub progress: Progress,
    pub status: Status,
    pub last_error: Option<String>,
    /// The fulfilment task that asks a person to do it.
    pub task_id: Option<i64>,
    /// Not settled within the deadline.
    pub overdue: bool,
}

/// A Postmark login that no active person at the providers claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    pub email: String,
    pub name: String,
    pub role: String,
    pub standing: Standing,
}

/// What the Offboarding page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// The deadline in words, e.g. "24 h".
    pub deadline: String,
    /// Newest first.
    pub cases: Vec<Case>,
    pub orphans: Vec<Orphan>,
    /// Whether any provider has pushed people (otherwise nobody can be called orphaned).
    pub has_provider: bool,
}

/// One login as its user page shows it: where it stands, and its removals outside campaigns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub standing: Standing,
    /// The groups of the people claiming the login, as their providers last pushed them.
    pub groups: Vec<String>,
    /// When a provider last changed any of those people.
    pub last_change: Option<String>,
    pub cases: Vec<Case>,
    /// The deadline in words.
    pub deadline: String,
}

/// What an emergency removal will do, shown before the admin confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalPlan {
    pub email: String,
    pub name: String,
    pub role: String,
    /// `Server name (id): permission`.
    pub permissions: Vec<String>,
    /// The steps, one sentence each.
    pub steps: Vec<String>,
    /// An open removal of this login already exists: its job id.
    pub open_case: Option<i64>,
}

/// A deadline in words: "24 h", "90 min", "5 s".
pub fn deadline_label(seconds: u64) -> String {
    if seconds >= 3600 && seconds.is_multiple_of(3600) {
        format!("{} h", seconds / 3600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// "2 h 05 min", "3 d 4 h", "12 min".
pub fn elapsed(minutes: i64) -> String {
    let minutes = minutes.max(0);
    match (minutes / 1440, (minutes % 1440) / 60, minutes % 60) {
        (0, 0, 0) => "under a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m:02} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_reads_like_a_person_would_say_it() {
        assert_eq!(elapsed(-3), "under a minute");
        assert_eq!(elapsed(12), "12 min");
        assert_eq!(elapsed(125), "2 h 05 min");
        assert_eq!(elapsed(3 * 1440 + 4 * 60 + 59), "3 d 4 h");
        assert_eq!(deadline_label(24 * 3600), "24 h");
        assert_eq!(deadline_label(120), "2 min");
        assert_eq!(deadline_label(90), "90 s");
    }

    #[test]
    fn only_a_verified_or_cancelled_removal_is_settled() {
        use Status::*;
        assert_eq!(
            Progress::of(Done, Verification::Effective),
            Progress::Verified
        );
        assert_eq!(
            Progress::of(Done, Verification::NotEffective),
            Progress::Failed
        );
        assert_eq!(
            Progress::of(Done, Verification::Unverified),
            Progress::Removed
        );
        assert!(!Progress::Removed.is_settled());
        assert!(!Progress::NeedsPerson.is_settled());
        assert!(Progress::of(Cancelled, Verification::Unverified).is_settled());
        for slug in ["campaign", "offboarding", "emergency"] {
            assert_eq!(Origin::from_slug(slug).map(Origin::slug), Some(slug));
        }
    }
}
