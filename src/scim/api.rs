//! Server functions for the SCIM tokens page (admins).

use leptos::prelude::*;

use super::{NewToken, TokenView, TokensPage};
use crate::error::AppError;

/// Where providers send requests: `PAR_PUBLIC_URL/scim/v2`.
#[cfg(feature = "ssr")]
fn base_url(state: &crate::state::AppState) -> String {
    format!("{}{}", state.config.origin(), super::BASE_PATH)
}

/// Every provider token (never the tokens themselves) and the base URL.
#[server(prefix = "/api", endpoint = "scim_tokens", output = crate::codec::TextJson)]
pub async fn scim_tokens() -> Result<TokensPage, AppError> {
    use crate::auth::guard::{require, respond, Need};
    require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let tokens = respond(super::tokens::list(&state.db).await.map_err(AppError::from))?;
    Ok(TokensPage {
        base_url: base_url(&state),
        tokens,
    })
}

/// Creates a token for the identity provider named `provider` (and the provider, when new).
/// The answer is the only time the token is shown.
#[server(prefix = "/api", endpoint = "scim_create_token", output = crate::codec::TextJson)]
pub async fn create_scim_token(provider: String) -> Result<NewToken, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    let (view, token) = respond(
        super::tokens::create(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &user.email,
            &provider,
        )
        .await,
    )?;
    Ok(NewToken {
        id: view.id,
        provider: view.provider,
        prefix: view.prefix,
        token,
        base_url: base_url(&state),
    })
}

/// Revokes a token; its provider's requests with it are refused from now on.
#[server(prefix = "/api", endpoint = "scim_revoke_token", output = crate::codec::TextJson)]
pub async fn revoke_scim_token(id: i64) -> Result<TokenView, AppError> {
    use crate::auth::guard::{require, respond, Need};
    let user = require(Need::Admin)?;
    let state = crate::state::app_state()?;
    respond(
        super::tokens::revoke(
            &state.db,
            state.clock.as_ref(),
            &user.actor(),
            &user.email,
            id,
        )
        .await,
    )
}
