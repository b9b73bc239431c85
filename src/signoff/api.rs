//! Server functions of the sign-off.

use leptos::prelude::*;

use super::{SignoffState, SignoffView};
use crate::error::AppError;

/// The campaign's sign-off with its signatures checked now, or what blocks it (admins and
/// auditors).
#[server(prefix = "/api", endpoint = "campaign_signoff", output = crate::codec::TextJson)]
pub async fn campaign_signoff(id: i64) -> Result<SignoffState, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(super::db::state(&state.db, id).await)
}

/// Signs off a closed campaign whose revocations are finished, with a statement (admins).
#[server(prefix = "/api", endpoint = "campaign_sign_off", output = crate::codec::TextJson)]
pub async fn campaign_sign_off(id: i64, statement: String) -> Result<SignoffView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        super::db::sign_off(
            &state.db,
            state.clock.as_ref(),
            &state.signer,
            &user.actor(),
            respond(user.person_email())?.as_str(),
            id,
            &statement,
        )
        .await,
    )
}
