//! Server functions of the Group mappings page: the overview (admins and auditors), and an
//! admin's preview, save and delete. Servers travel as a comma-separated list of ids, so an
//! empty choice is still a field the form sends.

use leptos::prelude::*;

use super::{Effect, Overview};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn form(
    id: Option<i64>,
    group: String,
    role: String,
    permission: String,
    servers: String,
) -> Result<super::MappingForm, AppError> {
    let servers = servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| AppError::Validation(format!("{s:?} is not a server id.")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::MappingForm {
        id,
        group,
        role,
        permission,
        servers,
    })
}

/// The mappings, what to pick from, and the jobs mappings started.
#[server(prefix = "/api", endpoint = "mappings_overview", output = crate::codec::TextJson)]
pub async fn mappings_overview() -> Result<Overview, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::AdminOrAuditor)?;
    let state = crate::state::app_state()?;
    let has_gateway = state.inventory.gateway().is_some();
    respond(
        super::db::overview(&state.db, has_gateway)
            .await
            .map_err(AppError::from),
    )
}

/// Who would gain and lose what if the mapping were saved; nothing is saved.
#[server(prefix = "/api", endpoint = "mapping_preview", output = crate::codec::TextJson)]
pub async fn mapping_preview(
    id: Option<i64>,
    group: String,
    role: String,
    permission: String,
    servers: String,
) -> Result<Effect, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let form = respond(form(id, group, role, permission, servers))?;
    respond(super::db::preview(&state.db, &form).await)
}

/// Saves a mapping (new without `id`) and starts the jobs it calls for.
#[server(prefix = "/api", endpoint = "mapping_save", output = crate::codec::TextJson)]
pub async fn mapping_save(
    id: Option<i64>,
    group: String,
    role: String,
    permission: String,
    servers: String,
) -> Result<Effect, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let by = respond(user.person_email())?;
    let form = respond(form(id, group, role, permission, servers))?;
    respond(
        super::db::save(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            by.as_str(),
            &form,
        )
        .await,
    )
}

/// What deleting a mapping would take away; nothing is deleted.
#[server(prefix = "/api", endpoint = "mapping_delete_preview", output = crate::codec::TextJson)]
pub async fn mapping_delete_preview(id: i64) -> Result<Effect, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(super::db::preview_delete(&state.db, id).await)
}

/// Deletes a mapping and starts the removals it calls for.
#[server(prefix = "/api", endpoint = "mapping_delete", output = crate::codec::TextJson)]
pub async fn mapping_delete(id: i64) -> Result<Effect, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(super::db::delete(&state.db, state.clock.as_ref(), &user.actor(), id).await)
}
