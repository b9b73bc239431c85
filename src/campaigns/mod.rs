//! Review campaigns: an admin drafts one (scope, dates, default outcome, reviewer rules),
//! previews who reviews what, launches it (the inventory is copied into review items), watches
//! progress and closes it. Reviewers work through their items in [`crate::reviews`].

pub mod api;
pub mod detail;
pub mod form;
pub mod item_list;
pub mod pages;
pub mod scope_pick;

#[cfg(feature = "ssr")]
pub mod assign;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod flagged;
#[cfg(feature = "ssr")]
pub mod items;
#[cfg(feature = "ssr")]
pub mod lifecycle;
#[cfg(feature = "ssr")]
pub mod managers;
#[cfg(feature = "ssr")]
pub mod notify;
#[cfg(feature = "ssr")]
pub mod progress;
#[cfg(feature = "ssr")]
pub mod reminders;
#[cfg(feature = "ssr")]
pub mod schedule;
#[cfg(feature = "ssr")]
pub mod validate;

use serde::{Deserialize, Serialize};

use crate::review_items::{Decision, ItemKind, ItemView};

/// What happens at close to items nobody decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultOutcome {
    Keep,
    Revoke,
    /// Left for an admin to decide.
    Flag,
}

impl DefaultOutcome {
    pub const ALL: [DefaultOutcome; 3] = [
        DefaultOutcome::Keep,
        DefaultOutcome::Revoke,
        DefaultOutcome::Flag,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            DefaultOutcome::Keep => "keep",
            DefaultOutcome::Revoke => "revoke",
            DefaultOutcome::Flag => "flag",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            DefaultOutcome::Keep => "Keep the access",
            DefaultOutcome::Revoke => "Revoke the access",
            DefaultOutcome::Flag => "Flag for an admin",
        }
    }

    /// The decision recorded for an undecided item at close.
    pub fn decision(self) -> Decision {
        match self {
            DefaultOutcome::Keep => Decision::Approve,
            DefaultOutcome::Revoke => Decision::Revoke,
            DefaultOutcome::Flag => Decision::Flag,
        }
    }
}

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Draft,
    Active,
    Closed,
    /// Not reviewed itself: creates a draft every quarter.
    Template,
}

impl Status {
    pub fn slug(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Closed => "closed",
            Status::Template => "template",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        [
            Status::Draft,
            Status::Active,
            Status::Closed,
            Status::Template,
        ]
        .into_iter()
        .find(|s| s.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Active => "Open",
            Status::Closed => "Closed",
            Status::Template => "Recurring template",
        }
    }
}

/// A campaign's settings as an admin enters them (also the HTML form's fields; checkboxes
/// arrive as `Some("on")`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignInput {
    pub name: String,
    pub description: String,
    pub kind_account_role: Option<String>,
    pub kind_server_permission: Option<String>,
    pub kind_server: Option<String>,
    /// Postmark server ids, checked in the form's server list (`input[server_ids][]`, one
    /// field per server) or comma-separated in one field; empty: every server.
    #[serde(deserialize_with = "list_field")]
    pub server_ids: Vec<String>,
    /// Account roles, checked like servers (`input[roles][]`) or comma-separated in one
    /// field; empty: every role.
    #[serde(deserialize_with = "list_field")]
    pub roles: Vec<String>,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    pub due_on: String,
    /// A [`DefaultOutcome`] slug.
    pub default_outcome: String,
    pub revoke_needs_justification: Option<String>,
    pub privileged_needs_justification: Option<String>,
    pub use_manager_mapping: Option<String>,
    pub use_server_owners: Option<String>,
    pub fixed_reviewer: String,
    pub fallback_reviewer: String,
    /// Save as a template that creates a draft every quarter.
    pub recurring: Option<String>,
    /// Days before the due date to remind reviewers with undecided items, comma-separated
    /// (`7, 1`); empty: no reminders.
    pub reminder_days: String,
    /// When revoke decisions are carried out: a [`crate::revocations::Mode`] slug; empty:
    /// after an admin applies them.
    pub revocation_mode: String,
}

impl CampaignInput {
    /// Defaults for a new campaign starting `today`: everything in scope, two weeks to decide.
    pub fn for_new(today: &str, due: &str, fallback: &str) -> Self {
        let on = Some("on".to_string());
        Self {
            name: String::new(),
            description: String::new(),
            kind_account_role: on.clone(),
            kind_server_permission: on.clone(),
            kind_server: on.clone(),
            server_ids: Vec::new(),
            roles: Vec::new(),
            starts_on: today.to_string(),
            due_on: due.to_string(),
            default_outcome: DefaultOutcome::Flag.slug().to_string(),
            revoke_needs_justification: on.clone(),
            privileged_needs_justification: on.clone(),
            use_manager_mapping: on.clone(),
            use_server_owners: on,
            fixed_reviewer: String::new(),
            fallback_reviewer: fallback.to_string(),
            recurring: None,
            reminder_days: "7, 1".to_string(),
            revocation_mode: crate::revocations::Mode::Apply.slug().to_string(),
        }
    }
}

/// A list field of the campaign form: one value per checked box (`input[roles][]=…`, a
/// sequence) or, as the form had text fields before, one comma-separated value. Each value is
/// trimmed; empty ones are dropped.
fn list_field<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of values or one comma-separated text")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok(text
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect())
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(vec![n.to_string()])
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(vec![n.to_string()])
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut values = Vec::new();
            while let Some(value) = seq.next_element::<String>()? {
                let value = value.trim();
                if !value.is_empty() {
                    values.push(value.to_string());
                }
            }
            Ok(values)
        }
    }
    deserializer.deserialize_any(Visitor)
}

/// What the campaign form offers to pick from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOptions {
    /// `(Postmark id, name)` of every server in the inventory, by name.
    pub servers: Vec<(i64, String)>,
    /// Account roles: Postmark's own and any other the inventory holds.
    pub roles: Vec<String>,
    /// Known people to suggest as reviewers: see [`crate::reviewer_suggestions`].
    pub reviewers: Vec<String>,
}

/// A campaign as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: Status,
    pub kinds: Vec<ItemKind>,
    /// Empty: every server.
    pub server_ids: Vec<i64>,
    /// Empty: every role.
    pub roles: Vec<String>,
    pub starts_on: String,
    pub due_on: String,
    pub default_outcome: DefaultOutcome,
    pub revoke_needs_justification: bool,
    pub privileged_needs_justification: bool,
    pub use_manager_mapping: bool,
    pub use_server_owners: bool,
    pub fixed_reviewer: Option<String>,
    pub fallback_reviewer: String,
    /// Days before the due date reviewers are reminded, largest first.
    pub reminder_days: Vec<i64>,
    pub revocation_mode: crate::revocations::Mode,
    /// Templates: the start of the next draft they create.
    pub next_run_on: Option<String>,
    pub template_id: Option<i64>,
    pub created_by: String,
    pub launched_at: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    /// Set once an admin signed it off: it never changes again.
    pub signed_off_at: Option<String>,
    /// Items in the campaign and how many are decided.
    pub items: i64,
    pub decided: i64,
}

impl CampaignView {
    /// The form filled with this campaign's settings (to edit a draft).
    pub fn input(&self) -> CampaignInput {
        let on = |b: bool| b.then(|| "on".to_string());
        CampaignInput {
            name: self.name.clone(),
            description: self.description.clone(),
            kind_account_role: on(self.kinds.contains(&ItemKind::AccountRole)),
            kind_server_permission: on(self.kinds.contains(&ItemKind::ServerPermission)),
            kind_server: on(self.kinds.contains(&ItemKind::Server)),
            server_ids: self.server_ids.iter().map(i64::to_string).collect(),
            roles: self.roles.clone(),
            starts_on: self.starts_on.clone(),
            due_on: self.due_on.clone(),
            default_outcome: self.default_outcome.slug().to_string(),
            revoke_needs_justification: on(self.revoke_needs_justification),
            privileged_needs_justification: on(self.privileged_needs_justification),
            use_manager_mapping: on(self.use_manager_mapping),
            use_server_owners: on(self.use_server_owners),
            fixed_reviewer: self.fixed_reviewer.clone().unwrap_or_default(),
            fallback_reviewer: self.fallback_reviewer.clone(),
            recurring: on(self.status == Status::Template),
            reminder_days: self
                .reminder_days
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            revocation_mode: self.revocation_mode.slug().to_string(),
        }
    }
}

/// Items per reviewer and kind, before launch or while the campaign runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerLoad {
    pub reviewer: String,
    /// `(kind, items, decided)`.
    pub kinds: Vec<(ItemKind, i64, i64)>,
    pub items: i64,
    pub decided: i64,
}

/// An item the rules could not give to anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unassigned {
    pub kind: ItemKind,
    pub subject: String,
    pub reason: String,
}

/// What launching a draft would create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub campaign: CampaignView,
    pub items: i64,
    pub reviewers: Vec<ReviewerLoad>,
    /// `(kind, items)`.
    pub by_kind: Vec<(ItemKind, i64)>,
    pub unassigned: Vec<Unassigned>,
    /// Items whose first-choice reviewer was the person themselves (sent to the fallback).
    pub self_review_rerouted: i64,
    /// Set when the inventory is older than `PAR_STALE_SYNC_DAYS` (or was never synced).
    pub stale_warning: Option<String>,
    /// Reviewers listed as auditors (and not admins): auditors only read, so their items could
    /// never be decided.
    pub auditor_reviewers: Vec<String>,
}

/// Progress and the lists an admin watches while a campaign runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub campaign: CampaignView,
    pub reviewers: Vec<ReviewerLoad>,
    /// `(kind, items, decided)`.
    pub by_kind: Vec<(ItemKind, i64, i64)>,
    /// Reviewers with undecided items after the due date.
    pub overdue: Vec<String>,
    /// Reviewers Postmark refused to email for good (inactive or invalid address).
    pub unreachable: Vec<String>,
    /// Where the campaign's revocations are (closed campaigns).
    pub revocations: crate::revocations::Counts,
    /// Revoke decisions waiting for an admin to apply them.
    pub to_apply: Vec<crate::revocations::RevocationView>,
    pub approved: i64,
    pub revoked: i64,
    pub flagged: i64,
    pub undecided: i64,
    /// Decided items by who decided: reviewers (in the queue or through a review link),
    /// admins (settling flagged items), and the campaign's default outcome at close.
    #[serde(default)]
    pub by_reviewers: i64,
    #[serde(default)]
    pub by_admins: i64,
    #[serde(default)]
    pub by_default: i64,
    /// Revocations waiting for the worker (after close).
    pub to_revoke: i64,
}

/// Items per page of a campaign's item list.
pub const ITEMS_PAGE_SIZE: usize = 50;

/// Filters and page of a campaign's item list (the dashboard's query string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemsQuery {
    pub campaign: i64,
    /// A reviewer's email.
    pub reviewer: Option<String>,
    /// An item kind slug.
    pub kind: Option<String>,
    /// `undecided`, or a decision slug (`approve`, `revoke`, `flag`).
    pub decision: Option<String>,
    /// A flag slug, or `any` for every flagged item.
    pub flag: Option<String>,
    pub page: Option<usize>,
}

/// One page of a campaign's items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemsPage {
    pub items: Vec<ItemView>,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
}

/// What importing a manager mapping did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingResult {
    Rejected {
        errors: Vec<crate::csv_file::RowError>,
        more: usize,
    },
    Imported {
        rows: usize,
        added: usize,
        removed: usize,
        changed: usize,
        /// Rows naming someone who is not a Postmark user (kept; they may join later).
        not_in_inventory: usize,
    },
}
