//! `/exports/…`: the CSV downloads, for admins and auditors (anonymous 401, others 403).
//! Every check happens before the first byte is sent: a bad filter is a 400 with the reason,
//! an unknown campaign a 404, and nothing is streamed.

use axum::{
    extract::{Path, RawQuery, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};

use super::{
    audit::{AuditFilter, AuditSource},
    decisions::DecisionsSource,
    inventory::{ServersSource, UsersSource},
    population::PopulationSource,
    response,
};
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
        .route("/exports/audit.csv", get(audit))
        .route("/exports/inventory-users.csv", get(inventory_users))
        .route("/exports/inventory-servers.csv", get(inventory_servers))
        .route("/exports/campaigns/{id}/population.csv", get(population))
        .route("/exports/campaigns/{id}/decisions.csv", get(decisions))
}

/// Admins and auditors only.
fn allowed(user: Option<Extension<SessionUser>>) -> Result<(), AppError> {
    check(
        user.as_ref().map(|Extension(user)| user),
        Need::AdminOrAuditor,
    )
    .map(|_| ())
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message).into_response()
}

/// Today (UTC) as `YYYY-MM-DD`, for file names.
fn today(state: &AppState) -> time::Date {
    state.clock.now().to_offset(time::UtcOffset::UTC).date()
}

async fn audit(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refused) = allowed(user) {
        return refused.into_response();
    }
    let filter = match AuditFilter::parse(query.as_deref()) {
        Ok(filter) => filter,
        Err(message) => return bad_request(message),
    };
    match AuditSource::new(state.db.clone(), filter).await {
        Ok(source) => response(source, &format!("audit-log-{}.csv", today(&state))),
        Err(error) => AppError::from(error).into_response(),
    }
}

async fn inventory_users(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
) -> Response {
    if let Err(refused) = allowed(user) {
        return refused.into_response();
    }
    let today = today(&state);
    response(
        UsersSource::new(state.db.clone(), today),
        &format!("inventory-users-{today}.csv"),
    )
}

async fn inventory_servers(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
) -> Response {
    if let Err(refused) = allowed(user) {
        return refused.into_response();
    }
    let allowlist = match crate::inventory::settings::allowlist(
        &state.db,
        &state.inventory.config.webhook_host_allowlist,
    )
    .await
    {
        Ok(allowlist) => allowlist,
        Err(error) => return AppError::from(error).into_response(),
    };
    response(
        ServersSource::new(state.db.clone(), allowlist),
        &format!("inventory-servers-{}.csv", today(&state)),
    )
}

/// 404 for an unknown campaign, 409 for one that was never launched (it has no items).
async fn launched(state: &AppState, id: i64) -> Result<(), AppError> {
    let status: Option<(String,)> = sqlx::query_as("SELECT status FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    match status.as_ref().map(|(s,)| s.as_str()) {
        None => Err(AppError::NotFound),
        Some("active" | "closed") => Ok(()),
        Some(_) => Err(AppError::Conflict(format!(
            "campaign {id} has not been launched, so it has no items to export"
        ))),
    }
}

async fn population(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Response {
    if let Err(refused) = allowed(user) {
        return refused.into_response();
    }
    if let Err(refused) = launched(&state, id).await {
        return refused.into_response();
    }
    response(
        PopulationSource::new(state.db.clone(), id),
        &format!("campaign-{id}-population.csv"),
    )
}

async fn decisions(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Response {
    if let Err(refused) = allowed(user) {
        return refused.into_response();
    }
    if let Err(refused) = launched(&state, id).await {
        return refused.into_response();
    }
    // Signed off: the signed report, byte for byte (later syncs may have news about its
    // revocations, which the Revocations page shows; the evidence stays what was signed).
    match crate::signoff::db::stored(&state.db, id).await {
        Ok(Some(signed)) => {
            return (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"campaign-{id}-decisions.csv\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                signed.report,
            )
                .into_response()
        }
        Ok(None) => {}
        Err(error) => return AppError::from(error).into_response(),
    }
    response(
        DecisionsSource::new(state.db.clone(), id),
        &format!("campaign-{id}-decisions.csv"),
    )
}
