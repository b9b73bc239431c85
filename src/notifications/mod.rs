//! The notification outbox: one row per intended email, written in the transaction of the
//! event that causes it and sent by a background worker (see `worker`), so a restart neither
//! loses an email nor sends it twice.
//!
//! This file holds the types the admin pages share with the browser; `db`, `render` and
//! `worker` are server-only.

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod render;
#[cfg(feature = "ssr")]
pub mod worker;

use serde::{Deserialize, Serialize};

/// Why an email goes out. The slug is stored and also sent to Postmark as the message `Tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// The launch digest: one per reviewer per campaign.
    ReviewRequest,
    /// Items handed on to a new reviewer.
    Handover,
    /// A reviewer still has undecided items before the due date.
    Reminder,
    /// After the due date: the fallback reviewer and admins hear who is overdue.
    Escalation,
    /// Revocations no API can carry out, for the people in `PAR_FULFILMENT_EMAILS`: one per
    /// task, linking to its page.
    FulfilmentTask,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::ReviewRequest,
        Kind::Handover,
        Kind::Reminder,
        Kind::Escalation,
        Kind::FulfilmentTask,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Kind::ReviewRequest => "review_request",
            Kind::Handover => "handover",
            Kind::Reminder => "reminder",
            Kind::Escalation => "escalation",
            Kind::FulfilmentTask => "fulfilment_task",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::ReviewRequest => "Review request",
            Kind::Handover => "Items handed on",
            Kind::Reminder => "Reminder",
            Kind::Escalation => "Escalation",
            Kind::FulfilmentTask => "Manual revocations",
        }
    }

    /// Whether the email carries an approval link (minted when it is sent). Escalations go to
    /// admins and the fallback reviewer about other people's queues, so they carry none; a
    /// fulfilment task links to its page, which asks for a sign-in and grants nothing itself.
    pub fn has_link(self) -> bool {
        !matches!(self, Kind::Escalation | Kind::FulfilmentTask)
    }
}

/// Where an email is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Waiting for its first or next attempt.
    Queued,
    /// A worker holds it (or held it and stopped; its lease then runs out and it is retried).
    Sending,
    /// Postmark accepted it.
    Sent,
    /// Given up: Postmark refused it for good or every attempt failed.
    Failed,
    /// Not sent on purpose: its campaign closed before it went out, so there was nothing left
    /// to ask of the reviewer.
    Skipped,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Queued,
        Status::Sending,
        Status::Sent,
        Status::Failed,
        Status::Skipped,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Queued => "Queued",
            Status::Sending => "Sending",
            Status::Sent => "Sent",
            Status::Failed => "Failed",
            Status::Skipped => "Not sent",
        }
    }
}

/// One email as the admin's notifications page shows it. The preview never holds a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    pub kind: Kind,
    pub recipient: String,
    pub campaign_id: Option<i64>,
    pub campaign_name: Option<String>,
    pub status: Status,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub permanent: bool,
    pub message_id: Option<String>,
    pub preview: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_slug(kind.slug()), Some(kind));
        }
        for status in Status::ALL {
            assert_eq!(Status::from_slug(status.slug()), Some(status));
        }
        assert_eq!(Kind::from_slug("newsletter"), None);
    }
}
