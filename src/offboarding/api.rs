//! Server functions of offboarding: the Offboarding page (admins and auditors), a login's
//! standing with the identity providers (admins and auditors), and emergency removal
//! (admins): its plan, then the removal itself.

use leptos::prelude::*;

use super::{Login, Overview, RemovalPlan};
use crate::error::AppError;

/// Removals outside campaigns and orphaned accounts.
#[server(prefix = "/api", endpoint = "offboarding_overview", output = crate::codec::TextJson)]
pub async fn offboarding_overview() -> Result<Overview, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    respond(
        super::read::overview(
            &state.db,
            state.clock.as_ref(),
            state.campaigns.offboarding_deadline,
        )
        .await
        .map_err(AppError::from),
    )
}

/// Where one Postmark login stands with the identity providers, and its removals outside
/// campaigns.
#[server(prefix = "/api", endpoint = "offboarding_login", output = crate::codec::TextJson)]
pub async fn offboarding_login(email: String) -> Result<Login, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let email = email.trim().to_lowercase();
    let deadline = state.campaigns.offboarding_deadline;
    let login = async {
        let standing = {
            let mut conn = state.db.pool().acquire().await?;
            super::identity::Standings::load(&mut conn)
                .await?
                .of(&email)
        };
        let cases =
            super::read::cases(&state.db, state.clock.as_ref(), deadline, Some(&email)).await?;
        let (groups, last_change) = super::read::groups_of(&state.db, &email).await?;
        Ok::<_, sqlx::Error>(Login {
            standing,
            groups,
            last_change,
            cases,
            deadline: super::deadline_label(deadline.as_secs()),
        })
    };
    respond(login.await.map_err(AppError::from))
}

/// What removing all of one login's access now would do.
#[server(prefix = "/api", endpoint = "offboarding_plan", output = crate::codec::TextJson)]
pub async fn offboarding_plan(email: String) -> Result<RemovalPlan, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let has_gateway = state.inventory.gateway().is_some();
    respond(super::db::plan(&state.db, &email, has_gateway).await)
}

/// Removes all of one login's Postmark access now, with a reason; answers the job's id.
#[server(prefix = "/api", endpoint = "offboarding_remove", output = crate::codec::TextJson)]
pub async fn offboarding_remove(email: String, reason: String) -> Result<i64, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let admin = respond(user.person_email())?;
    respond(
        super::db::remove_now(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            admin.as_str(),
            &email,
            &reason,
        )
        .await,
    )
}
