//! Server functions about people and sign-in.

use leptos::prelude::*;

use super::PersonSummary;
use crate::error::AppError;

/// Everyone who has signed in (admins only).
#[server(prefix = "/api", endpoint = "people", output = crate::codec::TextJson)]
pub async fn list_people() -> Result<Vec<PersonSummary>, AppError> {
    use super::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(super::people::list(&state.db).await.map_err(AppError::from))
}
