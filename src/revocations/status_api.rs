//! What became of revocations, where people look for it: the server's and the user's inventory
//! pages, the campaign dashboard and a reviewer's "My reviews"; and, on the server's page,
//! restoring a quarantined server or having it deleted (admins).

use leptos::prelude::*;

pub use super::views::{Fulfilment, QuarantineView, Restored, ServerRevocationList, SettingChange};
use crate::error::AppError;

/// Most of a reviewer's own revocations listed on "My reviews".
pub const MINE_LISTED: i64 = 200;

/// Revocations of the server itself and of permissions on it (admins and auditors).
#[server(prefix = "/api", endpoint = "server_revocations", output = crate::codec::TextJson)]
pub async fn server_revocations(server_id: i64) -> Result<ServerRevocationList, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::of_server(&state.db, server_id)
            .await
            .map(|(rows, quarantine)| ServerRevocationList { rows, quarantine })
            .map_err(AppError::from),
    )
}

/// Revocations of one user's account role and server permissions (admins and auditors).
#[server(prefix = "/api", endpoint = "user_revocations", output = crate::codec::TextJson)]
pub async fn user_revocations(email: String) -> Result<Vec<Fulfilment>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::of_user(&state.db, email.trim())
            .await
            .map_err(AppError::from),
    )
}

/// Every revocation of one campaign, for its dashboard (admins and auditors).
#[server(prefix = "/api", endpoint = "campaign_revocations", output = crate::codec::TextJson)]
pub async fn campaign_revocations(campaign_id: i64) -> Result<Vec<Fulfilment>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::of_campaign(&state.db, campaign_id)
            .await
            .map_err(AppError::from),
    )
}

/// The restored revocations with when and by whom, for the Revocations page (admins and
/// auditors).
#[server(prefix = "/api", endpoint = "revocations_restored", output = crate::codec::TextJson)]
pub async fn revocations_restored() -> Result<Vec<(i64, Restored)>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::restored(&state.db)
            .await
            .map_err(AppError::from),
    )
}

/// The revocations of the items the signed-in person reviewed (anyone signed in: only their
/// own), newest campaign first.
#[server(prefix = "/api", endpoint = "my_revocations", output = crate::codec::TextJson)]
pub async fn my_revocations() -> Result<Vec<Fulfilment>, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::SignedIn)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::of_reviewer(&state.db, &user.email, MINE_LISTED)
            .await
            .map_err(AppError::from),
    )
}

/// Puts back a quarantined server's name, SMTP API setting and webhook URLs in Postmark
/// (admins). Answers the name Postmark now has.
#[server(prefix = "/api", endpoint = "revocation_restore", output = crate::codec::TextJson)]
pub async fn revocation_restore(id: i64) -> Result<String, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::restore(
            &state.db,
            state.clock.as_ref(),
            state.inventory.client(),
            &user.actor(),
            id,
        )
        .await,
    )
}

/// Has a quarantined server deleted in Postmark by the worker (admins), once its name is typed
/// exactly.
#[server(prefix = "/api", endpoint = "revocation_delete_server", output = crate::codec::TextJson)]
pub async fn revocation_delete_server(id: i64, confirm_name: String) -> Result<(), AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        super::restore::request_delete(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            id,
            &confirm_name,
        )
        .await,
    )
}
