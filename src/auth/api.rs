//! Server functions about people and sign-in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A row of the people list shown to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub first_sign_in_at: String,
    pub last_sign_in_at: String,
}

/// Everyone who has signed in (admins only).
#[server(prefix = "/api", endpoint = "people")]
pub async fn list_people() -> Result<Vec<PersonSummary>, AppError> {
    use super::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(super::people::list(&state.db).await.map_err(AppError::from))
}
