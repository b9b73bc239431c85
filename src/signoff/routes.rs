//! Downloads of a signed-off campaign (admins and auditors): the signature of the report,
//! the manifest and its signature, and the evidence bundle. The signed report itself is the
//! campaign's `decisions.csv` ([`crate::export::routes`] serves the stored bytes).

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};

use super::db::{stored, Stored};
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
        .route(
            "/exports/campaigns/{id}/decisions.csv.sig",
            get(report_signature),
        )
        .route("/exports/campaigns/{id}/signoff.json", get(manifest))
        .route(
            "/exports/campaigns/{id}/signoff.json.sig",
            get(manifest_signature),
        )
        .route("/exports/campaigns/{id}/evidence.zip", get(bundle))
}

fn download(content_type: &'static str, name: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// The sign-off of campaign `id`; 404 (with a reason) when it has none.
async fn signed(
    state: &AppState,
    user: Option<Extension<SessionUser>>,
    id: i64,
) -> Result<Stored, AppError> {
    check(user.as_deref(), Need::AdminOrAuditor)?;
    stored(&state.db, id).await?.ok_or(AppError::NotFound)
}

fn signature(text: &str) -> Result<Vec<u8>, AppError> {
    Stored::raw_signature(text).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("a stored sign-off signature is unreadable"))
    })
}

async fn report_signature(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let stored = signed(&state, user, id).await?;
    Ok(download(
        "application/octet-stream",
        format!("campaign-{id}-decisions.csv.sig"),
        signature(&stored.report_signature)?,
    ))
}

async fn manifest(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let stored = signed(&state, user, id).await?;
    Ok(download(
        "application/json",
        format!("campaign-{id}-signoff.json"),
        stored.manifest.into_bytes(),
    ))
}

async fn manifest_signature(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let stored = signed(&state, user, id).await?;
    Ok(download(
        "application/octet-stream",
        format!("campaign-{id}-signoff.json.sig"),
        signature(&stored.manifest_signature)?,
    ))
}

async fn bundle(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let stored = signed(&state, user, id).await?;
    let zip = super::bundle::build(&state.db, &stored)
        .await
        .map_err(AppError::internal)?;
    Ok(download(
        "application/zip",
        format!("{}.zip", super::bundle::folder(id)),
        zip,
    ))
}
