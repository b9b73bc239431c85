//! "My reviews": the items assigned to the signed-in reviewer in open campaigns, their
//! decisions (one by one, in bulk, undone), and handing items to someone else.

pub mod api;
mod bulk_bar;
pub mod context;
pub mod filters;
pub mod handed_on;
mod item_row;
mod keys;
pub mod lookup;
pub mod page;
#[cfg(feature = "hydrate")]
mod position;
mod queue_state;

#[cfg(feature = "ssr")]
pub mod bulk;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod handover;

use serde::{Deserialize, Serialize};

use crate::review_items::ItemView;

/// Items per page of the queue.
pub const PAGE_SIZE: usize = 100;

/// Most items one bulk decision covers.
pub const MAX_BULK: usize = 5000;

/// Longest justification or reason kept.
pub const MAX_TEXT: usize = 2000;

/// Filters, grouping and page of the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    pub campaign: Option<i64>,
    /// `person` (default) or `server`.
    pub group: Option<String>,
    /// `undecided`, `decided`, or everything.
    pub status: Option<String>,
    /// An item kind slug.
    pub kind: Option<String>,
    /// A flag slug, or `any` for every flagged item.
    pub flag: Option<String>,
    pub search: Option<String>,
    pub page: Option<usize>,
}

/// An open campaign the reviewer has items in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCampaign {
    pub id: i64,
    pub name: String,
    pub due_on: String,
    pub revoke_needs_justification: bool,
    pub privileged_needs_justification: bool,
    pub items: i64,
    pub decided: i64,
    /// When its revocations run: what Revoke says it will do, and when.
    #[serde(default)]
    pub revocation_mode: crate::revocations::Mode,
}

/// One page of the reviewer's queue, grouped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub reviewer: String,
    pub campaigns: Vec<QueueCampaign>,
    /// `(group heading, items)` in page order.
    pub groups: Vec<(String, Vec<ItemView>)>,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    /// All the reviewer's items in open campaigns, and how many are decided.
    pub total: i64,
    pub decided: i64,
    /// What the inventory says about this page's people and servers.
    #[serde(default)]
    pub context: context::QueueContext,
}
