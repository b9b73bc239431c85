//! Downloads for auditors: the public key PEM and a checkpoint in its text form.

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};

use super::checkpoint;
use crate::{
    auth::{
        guard::{check, Need},
        session::SessionUser,
    },
    error::AppError,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit/public-key.pem", get(public_key))
        .route("/audit/checkpoints/{id}", get(checkpoint_text))
}

fn download(content_type: &'static str, name: String, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn public_key(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
) -> Result<Response, AppError> {
    check(user.as_deref(), Need::AdminOrAuditor)?;
    Ok(download(
        "application/x-pem-file",
        format!(
            "par-signing-key-{}.pem",
            state.signer.fingerprint().get(..16).unwrap_or("current")
        ),
        state.signer.public_key_pem().to_string(),
    ))
}

async fn checkpoint_text(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    check(user.as_deref(), Need::AdminOrAuditor)?;
    let found = checkpoint::by_id(&state.db, id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    Ok(download(
        "text/plain; charset=utf-8",
        format!("audit-checkpoint-{id}.txt"),
        found.text(),
    ))
}
