//! Server functions of the Notifications page (admins and auditors read; admins resend) and
//! of the demo's Inbox.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::NotificationView;
use crate::error::AppError;

/// Most emails listed at once, newest first.
pub const LISTED: i64 = 200;

/// What the Notifications page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// False when no Postmark server token is configured: emails wait in the queue.
    pub mail_enabled: bool,
    pub notifications: Vec<NotificationView>,
    /// Campaigns to filter by: `(id, name)`.
    pub campaigns: Vec<(i64, String)>,
}

/// One email the demo's simulated Postmark received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEmail {
    pub subject: String,
    pub text: String,
}

/// The outbox, optionally for one campaign and one status (`queued`, `sent`, `failed`, …).
#[server(prefix = "/api", endpoint = "notifications_list", output = crate::codec::TextJson)]
pub async fn notifications_list(
    campaign: Option<i64>,
    status: Option<String>,
) -> Result<Outbox, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let status = match status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(slug) => Some(respond(super::Status::from_slug(slug).ok_or_else(|| {
            AppError::Validation(format!("`{slug}` is not a notification status."))
        }))?),
    };
    let loaded = async {
        let notifications = super::db::list(&state.db, campaign, status, LISTED).await?;
        let campaigns = crate::campaigns::db::list(&state.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        Ok::<_, sqlx::Error>(Outbox {
            mail_enabled: state.mail_enabled(),
            notifications,
            campaigns,
        })
    };
    respond(loaded.await.map_err(AppError::from))
}

/// Sends a reviewer a fresh email for the campaign of notification `id`; sending it rotates
/// their link, so the old one stops working.
#[server(prefix = "/api", endpoint = "notification_resend", output = crate::codec::TextJson)]
pub async fn notification_resend(id: i64) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        crate::campaigns::notify::resend(&state.db, state.clock.as_ref(), &user.actor(), id).await,
    )
}

/// Withdraws the review links sent to the recipient of notification `id` for its campaign.
#[server(prefix = "/api", endpoint = "notification_withdraw_link", output = crate::codec::TextJson)]
pub async fn notification_withdraw_link(id: i64) -> Result<u64, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        crate::campaigns::notify::withdraw_link(&state.db, state.clock.as_ref(), &user.actor(), id)
            .await,
    )
}

/// The signed-in person's emails in the demo's simulated Postmark, newest first.
#[server(prefix = "/api", endpoint = "demo_inbox", output = crate::codec::TextJson)]
pub async fn demo_inbox() -> Result<Vec<InboxEmail>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    let Some(simulator) = state.simulator.as_ref() else {
        return respond(Err(AppError::NotFound));
    };
    let me = respond(user.person_email())?;
    let mut emails: Vec<InboxEmail> = simulator
        .inbox(me.as_str())
        .into_iter()
        .map(|email| InboxEmail {
            subject: email.subject,
            text: email.text_body,
        })
        .collect();
    emails.reverse();
    Ok(emails)
}
