//! Server functions of revocations: the list and its attempts (admins and auditors), applying
//! a closed campaign's revoke decisions, retry and cancel (admins).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AttemptView, Deleted, Excluded, RevocationView};
use crate::error::AppError;

/// Most rows listed at once.
pub const LISTED: i64 = 500;

/// What the Revocations page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationList {
    pub rows: Vec<RevocationView>,
    /// `(since, reason)` while Postmark refuses the credentials: nothing runs until it stops.
    pub paused: Option<(String, String)>,
    /// Campaigns to filter by: `(id, name)`.
    pub campaigns: Vec<(i64, String)>,
}

#[cfg(feature = "ssr")]
fn parse_filter<T>(
    value: Option<String>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, AppError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(slug) => parse(slug)
            .map(Some)
            .ok_or_else(|| AppError::Validation(format!("`{slug}` is not a {what}."))),
    }
}

/// Revocations, optionally of one campaign, status and kind, newest first.
#[server(prefix = "/api", endpoint = "revocations_list", output = crate::codec::TextJson)]
pub async fn revocations_list(
    campaign: Option<i64>,
    status: Option<String>,
    kind: Option<String>,
    verification: Option<String>,
) -> Result<RevocationList, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let status = respond(parse_filter(
        status,
        "revocation status",
        super::Status::from_slug,
    ))?;
    let kind = respond(parse_filter(
        kind,
        "kind of item",
        crate::review_items::ItemKind::from_slug,
    ))?;
    let verification = respond(parse_filter(
        verification,
        "verification outcome",
        super::Verification::from_slug,
    ))?;
    let loaded = async {
        let rows =
            super::db::list_verified(&state.db, campaign, status, kind, verification, LISTED)
                .await?;
        let paused = super::db::paused(&state.db).await?;
        let campaigns = crate::campaigns::db::list(&state.db)
            .await?
            .into_iter()
            .filter(|c| c.status == crate::campaigns::Status::Closed)
            .map(|c| (c.id, c.name))
            .collect();
        Ok::<_, sqlx::Error>(RevocationList {
            rows,
            paused,
            campaigns,
        })
    };
    respond(loaded.await.map_err(AppError::from))
}

/// Every attempt of one revocation, oldest first.
#[server(prefix = "/api", endpoint = "revocation_attempts", output = crate::codec::TextJson)]
pub async fn revocation_attempts(id: i64) -> Result<Vec<AttemptView>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::db::attempts(&state.db, id)
            .await
            .map_err(AppError::from),
    )
}

/// Carries out a closed campaign's revoke decisions, except `exclude` (each with a reason);
/// servers in `delete` are deleted instead of quarantined when their name is typed exactly.
#[server(prefix = "/api", endpoint = "revocations_apply", input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn revocations_apply(
    campaign_id: i64,
    exclude: Vec<Excluded>,
    delete: Vec<Deleted>,
) -> Result<usize, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let applied = async {
        let delete = super::confirm::deletions(&state.db, campaign_id, &delete).await?;
        let exclusions: Vec<super::db::Exclusion<'_>> = exclude
            .iter()
            .map(|e| super::db::Exclusion {
                id: e.id,
                reason: e.reason.as_str(),
            })
            .collect();
        let mut tx = state.db.begin().await?;
        let n = super::db::apply(
            &mut tx,
            state.clock.as_ref(),
            &user.actor(),
            campaign_id,
            &exclusions,
            &delete,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(n)
    };
    respond(applied.await)
}

/// Runs a failed or manual revocation again.
#[server(prefix = "/api", endpoint = "revocation_retry", output = crate::codec::TextJson)]
pub async fn revocation_retry(id: i64) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(super::db::retry(&state.db, state.clock.as_ref(), &user.actor(), id).await)
}

/// Gives up on a revocation that has not run to the end, with a reason.
#[server(prefix = "/api", endpoint = "revocation_cancel", output = crate::codec::TextJson)]
pub async fn revocation_cancel(id: i64, reason: String) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(super::db::cancel(&state.db, state.clock.as_ref(), &user.actor(), id, &reason).await)
}

/// Accepts a failed revocation as it is, with a reason (the access stays; the campaign can be
/// signed off with the reason in its report).
#[server(prefix = "/api", endpoint = "revocation_acknowledge", output = crate::codec::TextJson)]
pub async fn revocation_acknowledge(id: i64, reason: String) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        super::acknowledge::acknowledge(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            respond(user.person_email())?.as_str(),
            id,
            &reason,
        )
        .await,
    )
}
